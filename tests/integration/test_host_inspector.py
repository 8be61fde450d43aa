"""The MCP Inspector's CLI (pinned in tests/hosts) against build/nemo-mcp and
the reference backend: a real, model-free host calling each MCP method the
way a host configured with an `mcpServers` JSON file does.

Every method runs in both protocol eras the Inspector speaks: the
handshake (`legacy`, 2025-11-25) and the stateless one (`modern`). Each
command starts its own server; the state dir carries the current session
from one to the next, as it does between host restarts.
"""
import json
import os
import unittest

import hostclis
from hostclis import Sandbox
from mcpclient import BIN
from tools_fixture import ROOT, ToolsCase

ORDER = ["credits", "session", "upload", "generate", "job", "state",
         "export"]
PROMPTS = ["animate_image", "trim_clip", "music_and_captions", "export_to",
           "video_from_idea"]
ERAS = ("legacy", "modern")
CREDITS = 37
EXIT_TOOL_ERROR = 5         # the Inspector's exit code for isError: true


def schema(name):
    with open(os.path.join(ROOT, "schemas", name + ".json")) as fh:
        return json.load(fh)


class InspectorCli(ToolsCase):
    def setUp(self):
        self.exe, why = hostclis.find("mcp-inspector")
        if not self.exe:
            self.skipTest(why)
        super().setUp()
        self.box = Sandbox()
        self.addCleanup(self.box.cleanup)
        self.configure()

    def configure(self, extra=None):
        """The server entry, as a host's mcpServers file gives it; the
        token stays in the file (never on a command line)."""
        env = {k: str(v) for k, v in self.server_env(extra).items()
               if v is not None}
        self.secret = self.rb.issue_token(credits=CREDITS)
        env.update(NEMO_TOKEN=self.secret,
                   NEMO_CONFIG_DIR=self.config_dir,
                   NEMO_STATE_DIR=self.state_dir)
        env.update(extra or {})
        self.config = self.box.path("mcp.json")
        with open(self.config, "w") as fh:
            json.dump({"mcpServers": {"nemovideo": {"command": BIN,
                                                    "env": env}}}, fh)

    def inspect(self, method, *args, era="legacy", code=0):
        """One `inspector --cli` run: the result, or the error envelope
        when the exit code is not 0 or 5."""
        r = self.box.run([self.exe, "--cli", "--format", "json",
                          "--config", self.config, "--server", "nemovideo",
                          "--protocol-era", era, "--connect-timeout",
                          "20000", "--method", method, *args])
        self.assertEqual(r.returncode, code, r.stdout + r.stderr[-3000:])
        # The server's stderr comes through: sanitizer reports, if any.
        for bad in ("Sanitizer", "runtime error:", self.secret):
            self.assertNotIn(bad, r.stdout + r.stderr, r.stderr[-3000:])
        if r.returncode in (0, EXIT_TOOL_ERROR):
            return json.loads(r.stdout)["result"]
        envelope = [ln for ln in r.stderr.splitlines()
                    if ln.startswith('{"error"')]
        self.assertTrue(envelope, r.stderr[-3000:])
        return json.loads(envelope[-1])["error"]

    def test_tools_list_is_the_schemas(self):
        for era in ERAS:
            with self.subTest(era=era):
                tools = self.inspect("tools/list", era=era)["tools"]
                self.assertEqual([t["name"] for t in tools], ORDER)
                for t in tools:
                    want = schema(t["name"])
                    self.assertEqual(t["inputSchema"], want["inputSchema"])
                    self.assertEqual(t["outputSchema"],
                                     want["outputSchema"])
                    self.assertEqual(t["annotations"]["readOnlyHint"],
                                     want["annotations"]["readOnlyHint"])

    def test_credits_call_reaches_the_backend(self):
        for era in ERAS:
            with self.subTest(era=era):
                since = self.seq()
                res = self.inspect("tools/call", "--tool-name", "credits",
                                   era=era)
                self.assertFalse(res["isError"])
                self.assertEqual(res["structuredContent"],
                                 {"available": CREDITS, "frozen": 0,
                                  "total": CREDITS})
                self.assertIn(f"You have {CREDITS} credits available",
                              res["content"][0]["text"])
                asked = self.requests("/api/credits/", since)
                self.assertEqual(len(asked), 1)
                self.assertTrue(asked[0]["headers_lower"]["authorization"]
                                .startswith("Bearer "))

    def test_resources_of_the_current_session(self):
        res = self.inspect("tools/call", "--tool-name", "session",
                           "--tool-arg", "action=new")
        sid = res["structuredContent"]["session"]
        uri = f"nemo://sessions/{sid}/timeline"
        for era in ERAS:
            with self.subTest(era=era):
                listed = self.inspect("resources/list", era=era)
                self.assertEqual([(r["uri"], r["mimeType"])
                                  for r in listed["resources"]],
                                 [(uri, "application/json")])
                tpl = self.inspect("resources/templates/list", era=era)
                self.assertEqual([t["uriTemplate"]
                                  for t in tpl["resourceTemplates"]],
                                 ["nemo://sessions/{session}/timeline"])
                read = self.inspect("resources/read", "--uri", uri, era=era)
                kinds = {c["mimeType"]: c for c in read["contents"]}
                self.assertEqual(set(kinds), {"application/json",
                                              "text/plain"})
                timeline = json.loads(kinds["application/json"]["text"])
                self.assertEqual(timeline["session"], sid)

    def test_prompts_list_and_get(self):
        for era in ERAS:
            with self.subTest(era=era):
                prompts = self.inspect("prompts/list", era=era)["prompts"]
                self.assertEqual([p["name"] for p in prompts], PROMPTS)
                args = {a["name"]: a["required"]
                        for a in prompts[0]["arguments"]}
                self.assertEqual(args, {"image": True, "motion": True,
                                        "aspect_ratio": False,
                                        "length": False})
                got = self.inspect("prompts/get", "--prompt-name",
                                   "animate_image", "--prompt-args",
                                   "image=/tmp/cat.png",
                                   "motion=slow zoom in", era=era)
                text = got["messages"][0]["content"]["text"]
                for want in ("/tmp/cat.png", "slow zoom in", "`upload`",
                             "`generate`", "`job`", "`state`"):
                    self.assertIn(want, text)
                err = self.inspect("prompts/get", "--prompt-name",
                                   "animate_image", era=era, code=1)
                self.assertIn('needs the argument "image"', err["message"])
        self.assertEqual(self.requests("/api/"), [])

    def test_refused_configuration_connects_and_says_why(self):
        self.configure({"NEMO_API_URL": "http://example.com"})
        for era in ERAS:
            with self.subTest(era=era):
                tools = self.inspect("tools/list", era=era)["tools"]
                self.assertEqual(len(tools), len(ORDER))
                res = self.inspect("tools/call", "--tool-name", "credits",
                                   era=era, code=EXIT_TOOL_ERROR)
                self.assertTrue(res["isError"])
                self.assertNotIn("structuredContent", res)
                self.assertIn("NEMO_API_URL", res["content"][0]["text"])
        self.assertEqual(self.requests("/api/"), [])


if __name__ == "__main__":
    unittest.main()
