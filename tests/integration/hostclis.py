"""Real host programs for the host tests: where to find them and how to run
them sealed off.

tests/hosts/package-lock.json pins Gemini CLI and the MCP Inspector (its
--cli mode calls any MCP method without a model); .ci/run installs them
with `npm ci`. Claude Code is not pinned (a ~235 MB native binary): its
test runs when `claude` is on PATH or in $NEMO_HOST_BIN.

Each run gets a throw-away HOME (so XDG dirs too), telemetry and update
checks off through the hosts' documented settings, no standard input and a
timeout. Checked with strace: Gemini CLI and the Inspector open no network
socket of their own; Claude Code's only one goes to ANTHROPIC_BASE_URL, a
refused loopback port here (without it, it looks up api.anthropic.com).
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile

from mcpclient import ROOT

HOSTS_DIR = os.path.join(ROOT, "tests", "hosts")
PINNED_BIN = os.path.join(HOSTS_DIR, "node_modules", ".bin")
PINNED = ("gemini", "mcp-inspector")
RUN_TIMEOUT = 60            # seconds for one host command, start to exit

# Gemini CLI's user settings (geminicli.com/docs/reference/configuration):
# no usage statistics, no telemetry, no update check or notice.
GEMINI_SETTINGS = {
    "general": {"enableAutoUpdate": False,
                "enableAutoUpdateNotification": False},
    "privacy": {"usageStatisticsEnabled": False},
    "telemetry": {"enabled": False},
}


def find(name):
    """(path, None) or (None, why it is missing). $NEMO_HOST_BIN first,
    then the pinned install, then PATH."""
    base = os.environ.get("NEMO_HOST_BIN")
    if base and os.access(os.path.join(base, name), os.X_OK):
        return os.path.join(base, name), None
    pinned = os.path.join(PINNED_BIN, name)
    if name in PINNED and os.access(pinned, os.X_OK):
        return pinned, None
    found = shutil.which(name)
    if found:
        return found, None
    if name in PINNED:
        return None, (f"{name} is not installed: run `npm ci --ignore-scripts"
                      f" --omit=optional` in tests/hosts (.ci/run does), or"
                      f" set NEMO_HOST_BIN")
    return None, (f"{name} is not installed (not pinned: it is too big for"
                  f" CI); put it on PATH or set NEMO_HOST_BIN")


class Sandbox:
    """A throw-away HOME and project dir; base environment for a host."""

    def __init__(self, prefix="nemo-hosts-"):
        self.home = tempfile.mkdtemp(prefix=prefix)
        self.project = os.path.join(self.home, "project")
        os.mkdir(self.project)

    def cleanup(self):
        shutil.rmtree(self.home, True)

    def path(self, *parts):
        return os.path.join(self.home, *parts)

    def env(self, extra=None):
        """Only what a host needs: PATH for node, the sandbox as HOME and
        XDG dirs, and the hosts' switches for telemetry and updates."""
        env = {"PATH": os.environ.get("PATH", ""), "HOME": self.home,
               "XDG_CONFIG_HOME": self.path(".config"),
               "XDG_STATE_HOME": self.path(".local", "state"),
               "XDG_CACHE_HOME": self.path(".cache"),
               "XDG_DATA_HOME": self.path(".local", "share"),
               "NO_COLOR": "1", "CI": "1",
               # Gemini CLI: trust this folder (else MCP servers are off),
               # no telemetry, no relaunch of itself in a child process.
               "GEMINI_CLI_TRUST_WORKSPACE": "true",
               "GEMINI_TELEMETRY_ENABLED": "false",
               "GEMINI_CLI_NO_RELAUNCH": "true",
               # Inspector: keep the server's env values in memory only.
               "MCP_INSPECTOR_SECRET_STORE": "memory",
               # Claude Code: no update check, no non-essential traffic.
               "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
               "DISABLE_AUTOUPDATER": "1", "DISABLE_TELEMETRY": "1",
               # (it warms a connection to its API: a refused loopback port)
               "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}
        env.update(extra or {})
        return env

    def write_gemini_settings(self):
        os.makedirs(self.path(".gemini"), exist_ok=True)
        with open(self.path(".gemini", "settings.json"), "w") as fh:
            json.dump(GEMINI_SETTINGS, fh)

    def run(self, argv, extra_env=None):
        """One host command, bounded; a hang is a failure, not a stuck CI.
        The host runs in its own process group so that a timeout ends the
        servers it started too (they hold our pipes open)."""
        proc = subprocess.Popen(argv, env=self.env(extra_env),
                                cwd=self.project, text=True,
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            raise AssertionError(f"{' '.join(argv[:3])} did not finish in"
                                 f" {RUN_TIMEOUT} s: {out[-2000:]}"
                                 f" {err[-2000:]}") from None
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)
