"""The hosts that ship, with the exact messages they send.

The handshakes below were captured from the hosts themselves (Claude Code
2.1.197 and `gemini mcp list` of Gemini CLI 0.61.0, through a logging
wrapper) or read from their source and published logs (Gemini CLI's chat
client, Claude Desktop, Cursor):

- Gemini CLI adds a boolean `wait_for_previous` to every tool's parameters
  and passes it on in tools/call; it skips tools whose parameter schema has
  a property without a type, and hands the model only the text.
- Claude Code hands the model only structuredContent and validates it
  strictly against the output schema.
- Claude Desktop drops a server that answers an older protocol version.
- Cursor sends non-standard boolean capabilities and asks for resources
  and prompts around tools/list.

A configuration problem must not stop the server either: hosts show only
"failed to connect" for a server that exits at start.

The real CLIs check the connection too (`mcp list` needs no model and no
network): Gemini CLI is pinned in tests/hosts/package-lock.json (.ci/run
installs it); Claude Code (a ~235 MB native binary) is not, and its check
runs when `claude` is on PATH or in $NEMO_HOST_BIN. hostclis.py says how
they are found and sealed off; test_host_inspector.py drives the pinned MCP
Inspector through every list and a tool call.
"""
import json
import os
import shlex
import shutil
import subprocess
import unittest

import hostclis
from hostclis import Sandbox

from mcpclient import BIN, McpProcess, text_of
from tools_fixture import ROOT, SEED_DRAFT, ToolsCase

GEMINI_INIT = {"protocolVersion": "2025-06-18",
               "capabilities": {"roots": {"listChanged": True}},
               "clientInfo": {"name": "gemini-cli-mcp-client",
                              "version": "0.61.0"}}
GEMINI_LIST_INIT = {"protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "mcp-test-client",
                                   "version": "0.0.1"}}
CLAUDE_CODE_INIT = {"protocolVersion": "2025-11-25",
                    "capabilities": {"roots": {}, "elicitation": {}},
                    "clientInfo": {"name": "claude-code",
                                   "title": "Claude Code",
                                   "version": "2.1.197",
                                   "description": "Anthropic's agentic "
                                                  "coding tool",
                                   "websiteUrl":
                                       "https://claude.com/claude-code"}}
CLAUDE_DESKTOP_INITS = [
    {"protocolVersion": v, "capabilities": {},
     "clientInfo": {"name": "claude-ai", "version": "0.1.0"}}
    for v in ("2024-11-05", "2025-06-18", "2025-11-25")]
CURSOR_INITS = [
    {"protocolVersion": "2024-11-05",
     "capabilities": {"tools": True, "prompts": False, "resources": True,
                      "logging": False, "roots": {"listChanged": False}},
     "clientInfo": {"name": "cursor-vscode", "version": "1.0.0"}},
    {"protocolVersion": "2025-11-25",
     "capabilities": {"roots": {"listChanged": False}},
     "clientInfo": {"name": "cursor-vscode", "version": "1.0.0"}},
]

ORDER = ["credits", "session", "upload", "generate", "job", "state",
         "export"]


def load(name):
    with open(os.path.join(ROOT, "schemas", name + ".json")) as fh:
        return json.load(fh)


def handshake(mcp, init, wire_id=0):
    """initialize exactly as the host sends it (id 0, key order and all),
    then notifications/initialized."""
    mcp.send_raw(json.dumps({"method": "initialize", "params": init,
                             "jsonrpc": "2.0", "id": wire_id}) + "\n")
    r = mcp.wait_response(wire_id)
    mcp.send_raw('{"method":"notifications/initialized","jsonrpc":"2.0"}\n')
    return r


def type_arrays(node, where="$"):
    """Every place a schema uses a list of types or the null type."""
    found = []
    if isinstance(node, dict):
        t = node.get("type")
        if isinstance(t, list) or t == "null":
            found.append(where)
        for k, v in node.items():
            found += type_arrays(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += type_arrays(v, f"{where}[{i}]")
    return found


def nulls(node, where="$"):
    if node is None:
        return [where]
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in nulls(v, f"{where}.{k}")]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in nulls(v, f"{where}[{i}]")]
    return []


class Schemas(unittest.TestCase):
    def test_no_type_lists_or_null_types(self):
        # Strict host validators warn about ["integer","null"]: an absent
        # field says "unknown" instead.
        for name in ORDER:
            with self.subTest(tool=name):
                self.assertEqual(type_arrays(load(name)), [])

    def test_strict_validator_rules(self):
        # Claude Code validates structuredContent with a strict JSON Schema
        # validator (a mismatch fails the call): every required field is
        # declared, and each keyword sits beside the type it applies to.
        needs = {"minItems": "array", "maxItems": "array", "items": "array",
                 "minLength": "string", "maxLength": "string",
                 "properties": "object"}
        problems = []

        def walk(node, where):
            if isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, f"{where}[{i}]")
                return
            if not isinstance(node, dict):
                return
            for r in node.get("required", []):
                if r not in node.get("properties", {}):
                    problems.append(f"{where}: required {r} undeclared")
            for kw, t in needs.items():
                if kw in node and node.get("type") != t:
                    problems.append(f"{where}: {kw} without type {t}")
            for k, v in node.items():
                if k != "properties":
                    walk(v, f"{where}.{k}")
            for k, v in node.get("properties", {}).items():
                walk(v, f"{where}.properties.{k}")

        for name in ORDER:
            for part in ("inputSchema", "outputSchema"):
                walk(load(name)[part], f"{name}.{part}")
        self.assertEqual(problems, [])

    def test_every_parameter_has_a_type(self):
        # Gemini CLI skips a tool "because it has missing types in its
        # parameter schema".
        for name in ORDER:
            for prop, s in load(name)["inputSchema"]["properties"].items():
                with self.subTest(tool=name, prop=prop):
                    self.assertIsInstance(s.get("type"), str)

    def test_wait_for_previous_is_not_advertised(self):
        # Gemini CLI adds it to what its model sees; other hosts' models
        # must not start sending it.
        for name in ORDER:
            self.assertNotIn("wait_for_previous",
                             load(name)["inputSchema"]["properties"])

    def test_annotations_tell_the_truth(self):
        job, export = load("job")["annotations"], load("export")["annotations"]
        self.assertIs(job["readOnlyHint"], False)       # cancel: true
        self.assertIs(export["destructiveHint"], True)  # overwrite: true


class GeminiCli(ToolsCase):
    """Every tool called the way Gemini CLI calls it."""

    def test_handshake_and_every_tool_with_wait_for_previous(self):
        mcp = McpProcess(env=self.server_env(), config_dir=self.config_dir)
        self.addCleanup(self.stop_server, mcp)
        r = handshake(mcp, GEMINI_INIT)
        self.assertEqual(r["result"]["protocolVersion"], "2025-06-18")
        tools = mcp.request("tools/list")["result"]["tools"]
        self.assertEqual([t["name"] for t in tools], ORDER)
        sid = self.ok("session", {"action": "current",
                                  "wait_for_previous": False}, mcp)["session"]
        self.rb.set_state(sid, draft=SEED_DRAFT)
        clip = os.path.join(self.work, "clip.mp4")
        shutil.copy(os.path.join(ROOT, "tests", "fixtures", "sample.mp4"),
                    clip)
        out = os.path.join(self.work, "out.mp4")
        calls = [("credits", {}), ("upload", {"files": [clip]}),
                 ("generate", {"prompt": "show tracks"}), ("job", {}),
                 ("state", {}), ("export", {"download_to": out,
                                            "wait_seconds": 30})]
        for wait in (True, False):
            for name, args in calls:
                with self.subTest(tool=name, wait_for_previous=wait):
                    if name == "export" and not wait:
                        args = dict(args, overwrite=True)
                    st = self.ok(name, dict(args, wait_for_previous=wait),
                                 mcp)
                    self.assertNotIn("wait_for_previous", json.dumps(st))
        self.assertTrue(os.path.exists(out))

    def test_misspelt_argument_still_named(self):
        res = self.call("generate", {"promt": "hi", "prompt": "hi",
                                     "wait_for_previous": True})
        self.assertTrue(res.get("isError"))
        msg = text_of(res)
        self.assertIn('unknown property "promt"', msg)
        self.assertIn("allowed: prompt, session, wait_seconds, request_id",
                      msg)
        self.assertNotIn("wait_for_previous", msg)
        self.assertEqual(self.requests("/run_sse"), [])

    def test_mcp_list_probe(self):
        # `gemini mcp list`: its own client name, then a ping.
        mcp = McpProcess(env=self.server_env(), config_dir=self.config_dir)
        self.addCleanup(self.stop_server, mcp)
        self.assertIn("result", handshake(mcp, GEMINI_LIST_INIT))
        self.assertEqual(mcp.request("ping")["result"], {})

    def test_cli_call_accepts_it_too(self):
        r = subprocess.run([BIN, "call", "credits",
                            "wait_for_previous=true"],
                           env=self.cli_env(), capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("credits available", r.stdout)

    def cli_env(self):
        env = dict(os.environ, NEMO_CONFIG_DIR=self.config_dir)
        for k, v in self.server_env().items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
        return env


class NullMeansNotGiven(ToolsCase):
    def test_null_optional_arguments(self):
        sid = self.session()
        self.rb.set_state(sid, draft=SEED_DRAFT)
        st = self.ok("generate", {"prompt": "show tracks", "session": None,
                                  "wait_seconds": None, "request_id": None})
        self.assertEqual(st["route"], "state")
        self.assertEqual(st["session"], sid)
        self.ok("state", {"session": None})
        self.ok("credits", {})
        self.assertIn("jobs", self.ok("job", {"job": None, "cancel": None,
                                              "wait_seconds": None}))
        self.ok("session", {"action": "current", "language": None})
        res = self.call("upload", {"files": None, "urls": None})
        self.assertIn("Give local file paths", text_of(res))

    def test_null_for_a_required_argument_is_refused(self):
        res = self.call("generate", {"prompt": None})
        self.assertTrue(res.get("isError"))
        self.assertIn("arguments.prompt: must be a string, got null",
                      text_of(res))


class ClaudeCode(ToolsCase):
    def test_handshake(self):
        mcp = McpProcess(env=self.server_env(), config_dir=self.config_dir)
        self.addCleanup(self.stop_server, mcp)
        r = handshake(mcp, CLAUDE_CODE_INIT)["result"]
        self.assertEqual(r["protocolVersion"], "2025-11-25")
        tools = mcp.request("tools/list")["result"]["tools"]
        for t in tools:
            # Claude Code hands the model structuredContent: every tool
            # has an output schema, with no type lists.
            self.assertIn("outputSchema", t)
            self.assertEqual(type_arrays(t["outputSchema"]), [], t["name"])
        # Results match their schemas exactly (ok() checks) and carry no
        # nulls a strict validator would flag.
        self.rb.set_state(self.session(mcp), draft=SEED_DRAFT)
        for name, args in (("credits", {}), ("state", {}), ("job", {}),
                           ("upload", {"urls": ["https://m.example/a.mp4"],
                                       "files": ["/nonexistent.mp4"]})):
            st = self.ok(name, args, mcp)
            self.assertEqual(nulls(st), [], name)


class ClaudeDesktop(ToolsCase):
    def test_every_version_it_sends_is_answered_as_sent(self):
        for init in CLAUDE_DESKTOP_INITS:
            with self.subTest(version=init["protocolVersion"]):
                mcp = McpProcess(env=self.server_env(),
                                 config_dir=self.config_dir)
                self.addCleanup(self.stop_server, mcp)
                r = handshake(mcp, init)["result"]
                self.assertEqual(r["protocolVersion"],
                                 init["protocolVersion"])
                self.assertEqual(len(mcp.request("tools/list")["result"]
                                     ["tools"]), len(ORDER))
                res = self.call("credits", {}, mcp)
                self.assertIn("credits available", text_of(res))


class Cursor(ToolsCase):
    def test_boolean_capabilities_and_list_calls(self):
        for init in CURSOR_INITS:
            with self.subTest(version=init["protocolVersion"]):
                mcp = McpProcess(env=self.server_env(),
                                 config_dir=self.config_dir)
                self.addCleanup(self.stop_server, mcp)
                r = handshake(mcp, init)["result"]
                self.assertEqual(r["protocolVersion"],
                                 init["protocolVersion"])
                for method in ("resources/list", "tools/list",
                               "prompts/list"):
                    got = mcp.request(method)
                    self.assertTrue("result" in got or "error" in got, got)
                self.assertEqual(len(mcp.request("tools/list")["result"]
                                     ["tools"]), len(ORDER))
                res = self.call("state", {"session": None}, mcp)
                self.assertFalse(res.get("isError"), text_of(res))
                self.assertEqual(mcp.garbage, [])


class ConfigProblems(ToolsCase):
    """A refused configuration: the server stays, every call says why."""

    PROBLEMS = {
        "base URL": ({"NEMO_API_BASE": "http://example.com"},
                     "NEMO_API_BASE"),
        "base URL (ecosystem name)": ({"NEMO_API_URL": "http://example.com"},
                                      "NEMO_API_URL"),
        "SKILL.md": ({"NEMO_SKILL_FILE": "/nonexistent/SKILL.md"},
                     "NEMO_SKILL_FILE"),
    }

    def env_for(self, extra):
        env = self.server_env(extra)
        return env, extra.get("NEMO_CONFIG_DIR", self.config_dir)

    def test_each_host_connects_and_each_call_says_why(self):
        for what, (extra, variable) in self.PROBLEMS.items():
            for init in (GEMINI_INIT, CLAUDE_CODE_INIT,
                         CLAUDE_DESKTOP_INITS[1], CURSOR_INITS[0]):
                with self.subTest(problem=what,
                                  host=init["clientInfo"]["name"]):
                    env, cfg = self.env_for(extra)
                    mcp = McpProcess(env=env, config_dir=cfg)
                    self.addCleanup(self.stop_server, mcp)
                    r = handshake(mcp, init)["result"]
                    self.assertIn(variable, r["instructions"])
                    tools = mcp.request("tools/list")["result"]["tools"]
                    self.assertEqual(len(tools), len(ORDER))
                    for name in ORDER:
                        args = {"prompt": "hi"} if name == "generate" else \
                            {"action": "new"} if name == "session" else \
                            {"urls": ["https://m.example/a.mp4"]} \
                            if name == "upload" else {}
                        res = self.call(name, dict(args,
                                                   wait_for_previous=True),
                                        mcp)
                        self.assertTrue(res.get("isError"), name)
                        self.assertNotIn("structuredContent", res)
                        msg = text_of(res)
                        self.assertIn(variable, msg)
                        self.assertIn("restart", msg)
        # Nothing reached the backend.
        self.assertEqual(self.requests("/api/"), [])

    def test_stateless_era_discover_and_tasks(self):
        env, cfg = self.env_for(self.PROBLEMS["base URL"][0])
        mcp = McpProcess(env=env, config_dir=cfg)
        self.addCleanup(self.stop_server, mcp)
        caps = {"extensions": {"io.modelcontextprotocol/tasks": {}}}
        meta = mcp.stateless_meta(capabilities=caps)
        d = mcp.request("server/discover", {}, meta=meta)["result"]
        self.assertIn("NEMO_API_BASE", d["instructions"])
        self.assertEqual(len(mcp.request("tools/list", {}, meta=meta)
                             ["result"]["tools"]), len(ORDER))
        r = mcp.request("tools/call", {"name": "generate", "arguments":
                                       {"prompt": "make a video"}},
                        meta=meta)["result"]
        self.assertTrue(r.get("isError"))
        self.assertNotEqual(r.get("resultType"), "task")
        got = mcp.request("tasks/get", {"taskId": "job_" + "0" * 32},
                          meta=meta)
        self.assertIn("error", got)

    def test_resources_never_reach_the_backend(self):
        for what in ("base URL", "SKILL.md"):
            with self.subTest(problem=what):
                env, cfg = self.env_for(self.PROBLEMS[what][0])
                mcp = McpProcess(env=env, config_dir=cfg)
                self.addCleanup(self.stop_server, mcp)
                mcp.initialize()
                self.assertIn("result", mcp.request("resources/list"))
                got = mcp.request("resources/read", {
                    "uri": "nemo://sessions/s-1/timeline"})
                self.assertIn("error", got)
                self.assertIn("NEMO_", got["error"]["message"])
        self.assertEqual(self.requests("/api/"), [])

    def test_several_problems_are_listed_together(self):
        extra = {}
        for e, _ in self.PROBLEMS.values():
            extra.update(e)
        env, cfg = self.env_for(extra)
        mcp = McpProcess(env=env, config_dir=cfg)
        self.addCleanup(self.stop_server, mcp)
        mcp.initialize()
        msg = text_of(self.call("credits", {}, mcp))
        for _, variable in self.PROBLEMS.values():
            self.assertIn(variable, msg)

    def test_doctor_fails_and_call_exits_3(self):
        for what, (extra, variable) in self.PROBLEMS.items():
            with self.subTest(problem=what):
                env = dict(os.environ)
                env.pop("NEMO_TOKEN", None)
                env.update({"NEMO_API_BASE": self.rb.url, "HOME": self.tmp,
                            "NEMO_CONFIG_DIR": self.config_dir})
                env.pop("NEMO_SKILL_FILE", None)
                env.update(extra)
                r = subprocess.run([BIN, "doctor"], env=env, timeout=60,
                                   capture_output=True, text=True,
                                   stdin=subprocess.DEVNULL)
                self.assertEqual(r.returncode, 3, r.stdout)
                self.assertIn("FAIL", r.stdout)
                r = subprocess.run([BIN, "call", "credits"], env=env,
                                   timeout=60, capture_output=True,
                                   text=True, stdin=subprocess.DEVNULL)
                self.assertEqual(r.returncode, 3, r.stderr)
                self.assertIn(variable, r.stderr)
                r = subprocess.run([BIN, "tools"], env=env, timeout=60,
                                   capture_output=True, text=True,
                                   stdin=subprocess.DEVNULL)
                self.assertEqual(r.returncode, 0, r.stderr)


class RealHostClis(unittest.TestCase):
    """`mcp list` of the real CLIs, offline, in a throw-away HOME: the
    pinned Gemini CLI (tests/hosts) and, when installed, Claude Code."""

    def setUp(self):
        self.box = Sandbox()
        self.addCleanup(self.box.cleanup)

    def spy(self, name):
        """The server behind a wrapper that keeps a copy of its answers, so
        the test sees which configuration the host actually started."""
        script = self.box.path(name + ".sh")
        answers = self.box.path(name + ".jsonl")
        with open(script, "w") as fh:
            fh.write("#!/bin/sh\n%s | tee -a %s\n"
                     % (shlex.quote(BIN), shlex.quote(answers)))
        os.chmod(script, 0o755)
        return script, answers

    def check_host(self, name, add):
        exe, why = hostclis.find(name)
        if not exe:
            self.skipTest(why)
        # Two servers: one fine (a loopback backend it never needs for
        # `mcp list`), one with a refused NEMO_API_URL.
        servers = {"nemovideo": "http://127.0.0.1:9",
                   "nemobroken": "http://example.com"}
        answers = {}
        for server, url in servers.items():
            script, answers[server] = self.spy(server)
            r = self.box.run([exe] + add(server, url, script))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = self.box.run([exe, "mcp", "list"])
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 0, out)
        for server in servers:
            with self.subTest(server=server):
                line = [ln for ln in out.splitlines() if server + ":" in ln]
                self.assertTrue(line and "Connected" in line[0], out)
                with open(answers[server]) as fh:
                    init = json.loads(fh.readline())["result"]
                self.assertEqual(init["serverInfo"]["name"], "nemo-mcp")
                broken = "NEMO_API_URL" in init.get("instructions", "")
                self.assertEqual(broken, server == "nemobroken",
                                 init.get("instructions"))

    def test_gemini_mcp_list(self):
        self.box.write_gemini_settings()
        self.check_host("gemini", lambda server, url, script: [
            "mcp", "add", "-s", "user", "-e", "NEMO_API_URL=" + url,
            server, script])

    def test_claude_mcp_list(self):
        self.check_host("claude", lambda server, url, script: [
            "mcp", "add", server, "-e", "NEMO_API_URL=" + url, "--",
            script])


if __name__ == "__main__":
    unittest.main()
