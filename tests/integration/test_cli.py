"""The command line: --help/--version, tools, call (text, --json, argument
parsing and validation, waiting on jobs, Ctrl-C), doctor, exit codes."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "backend"))

from mcpclient import BIN  # noqa: E402
from refbackend import RefBackend  # noqa: E402

TOOLS = ["credits", "session", "upload", "generate", "job", "state", "export"]


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rb = RefBackend(seed=5).start()

    @classmethod
    def tearDownClass(cls):
        cls.rb.stop()

    def setUp(self):
        self.rb.reset()
        self.cfg = tempfile.TemporaryDirectory(prefix="nemo-cli-")
        self.env = dict(os.environ, NEMO_CONFIG_DIR=self.cfg.name,
                        NEMO_STATE_DIR=os.path.join(self.cfg.name, "state"),
                        NEMO_API_BASE=self.rb.url, NEMO_LOG="error",
                        NEMO_RENDER_POLL_MS="20")
        self.env.pop("NEMO_TOKEN", None)

    def tearDown(self):
        self.cfg.cleanup()

    def run_cli(self, *args, timeout=60):
        return subprocess.run([BIN, *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def test_help_and_version(self):
        r = self.run_cli("--help")
        self.assertEqual(r.returncode, 0)
        for needle in ("tools", "call TOOL", "doctor", "exit codes",
                       "130"):
            self.assertIn(needle, r.stdout)
        r = self.run_cli("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^nemo-mcp \d+\.\d+\.\d+\n$")

    def test_usage_errors_exit_2(self):
        for args in (["frobnicate"], ["call"], ["tools", "extra"],
                     ["call", "no-such-tool"], ["call", "credits", "x=1"],
                     ["call", "credits", "not-a-pair"],
                     ["call", "generate", "{not json"],
                     ["call", "generate", "wait_seconds=5"]):
            with self.subTest(args=args):
                r = self.run_cli(*args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(r.stdout, "")
                self.assertTrue(r.stderr.startswith("nemo-mcp: "), r.stderr)
        r = self.run_cli("call", "credits", "x=1")
        self.assertIn('unknown property "x"', r.stderr)
        r = self.run_cli("call", "generate", "wait_seconds=5")
        self.assertIn('missing required property "prompt"', r.stderr)

    def test_tools_lists_every_tool_in_order(self):
        r = self.run_cli("tools")
        self.assertEqual(r.returncode, 0, r.stderr)
        names = [line.split()[0] for line in r.stdout.splitlines()]
        self.assertEqual(names, TOOLS)

    def test_tool_help_shows_arguments(self):
        r = self.run_cli("call", "generate", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("prompt", r.stdout)
        self.assertIn("(required)", r.stdout)

    def test_call_prints_text_or_json(self):
        r = self.run_cli("call", "credits")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.strip())
        r = self.run_cli("call", "credits", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        data = json.loads(r.stdout)
        self.assertIn("available", data)
        # stderr is not a terminal: no progress line.
        self.assertNotIn("\r", r.stderr)

    def test_call_values_parse_as_json_when_they_can(self):
        # "true" is a boolean and 0 a number: accepted by the schema.
        r = self.run_cli("call", "session", "action=new", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.rb.next_turn("slow", delay_ms=300)
        r = self.run_cli("call", "generate", "prompt=hello",
                         "wait_seconds=0", "--no-wait", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        data = json.loads(r.stdout)
        # --no-wait: what a host sees, the bounded wait and a job handle.
        self.assertEqual(data["status"], "running", data)
        self.assertTrue(data["job"])
        # A quoted number stays a string, so the integer check rejects it.
        r = self.run_cli("call", "generate", "prompt=x", 'wait_seconds="5"')
        self.assertEqual(r.returncode, 2)
        self.assertIn("must be an integer", r.stderr)

    def test_call_waits_for_long_work(self):
        self.rb.next_turn("slow", delay_ms=300)
        r = self.run_cli("call", "generate",
                         '{"prompt":"a short video about the sea",'
                         ' "wait_seconds":0}', "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        data = json.loads(r.stdout)
        self.assertEqual(data["status"], "completed", data)
        self.assertTrue(data["reply"])

    def test_tool_error_exits_1(self):
        self.rb.fault("/api/credits", "status", status=500, count=20)
        r = self.run_cli("call", "credits")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertTrue(r.stdout.strip())

    def test_ctrl_c_cancels_a_call(self):
        self.rb.fault("/api/credits", "hang")
        p = subprocess.Popen([BIN, "call", "credits"], env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, text=True)
        try:
            self.rb.wait_for_request("/api/credits", timeout=10)
            t0 = time.monotonic()
            p.send_signal(signal.SIGINT)
            self.assertEqual(p.wait(timeout=5), 130)
            self.assertLess(time.monotonic() - t0, 2.0)
        finally:
            if p.poll() is None:
                p.kill()
            p.communicate()

    def test_doctor(self):
        r = self.run_cli("doctor")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(all(line[:4] in ("OK  ", "WARN")
                            for line in r.stdout.splitlines() if line),
                        r.stdout)
        env = dict(self.env, NEMO_API_BASE="http://127.0.0.1:9")
        r = subprocess.run([BIN, "doctor"], env=env, capture_output=True,
                           text=True, timeout=60, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 3, r.stdout)
        self.assertIn("FAIL", r.stdout)


if __name__ == "__main__":
    unittest.main()
