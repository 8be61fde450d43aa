"""Whole MCP sessions under valgrind (opt-in: NEMO_VALGRIND=1 and valgrind
on PATH; skipped otherwise, as it takes minutes).

Each session runs build/nemo-mcp under memcheck with
--errors-for-leak-kinds=definite,indirect --error-exitcode=99 against the
reference backend, and the test fails on any memcheck error or definite or
indirect leak (exit code 99, or an error summary in the log):

- handshake era, a client with form elicitation and roots: roots/list
  answered, resources/read + subscribe, prompts/get, completion/complete,
  upload, generate whose question the form answers, export with download,
  generate in the background and job;
- 2026-07-28: input_required and the retry with the answer, a
  subscriptions/listen stream acknowledged then cancelled;
- shutdown while a turn is streaming and while a question is out."""
import os
import shutil
import sys
import tempfile
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "backend"))

from mcpclient import STATELESS, McpProcess, text_of  # noqa: E402
from tools_fixture import SAMPLE_MP4, SEED_DRAFT, ToolsCase  # noqa: E402

ON = os.environ.get("NEMO_VALGRIND") == "1" and shutil.which("valgrind")
SUB_KEY = "io.modelcontextprotocol/subscriptionId"


def file_uri(path):
    return "file://" + urllib.parse.quote(path)


@unittest.skipUnless(ON, "NEMO_VALGRIND=1 and valgrind run these")
class Valgrind(ToolsCase):
    backend_config = {"silent_ratio": 0, "turn_ms": 60, "heartbeat_ms": 20}
    exit_timeout = 120

    def setUp(self):
        self.vglogs = tempfile.mkdtemp(prefix="nemo-vg-")
        self.addCleanup(shutil.rmtree, self.vglogs, True)
        super().setUp()

    def start_server(self, extra_env=None, caps=None, initialize=True):
        from mcpclient import BIN
        wrapper = os.path.join(self.tmp, "vg.sh")
        with open(wrapper, "w") as fh:
            fh.write("#!/bin/sh\nexec valgrind --leak-check=full "
                     "--errors-for-leak-kinds=definite,indirect "
                     "--error-exitcode=99 --log-file=%s/%%p.log %s \"$@\"\n"
                     % (self.vglogs, BIN))
        os.chmod(wrapper, 0o755)
        mcp = McpProcess(env=self.server_env(extra_env),
                         config_dir=self.config_dir, state_dir=self.state_dir,
                         binary=wrapper, timeout=120)
        self.addCleanup(self.stop_server, mcp)
        if initialize:
            mcp.initialize(capabilities=caps or {})
        return mcp

    def stop_server(self, mcp):
        super().stop_server(mcp)      # exit code 99 on a memcheck error
        logs = []
        for name in sorted(os.listdir(self.vglogs)):
            with open(os.path.join(self.vglogs, name)) as fh:
                logs.append(fh.read())
        self.assertTrue(logs, "valgrind wrote no log")
        for log in logs:
            # Leaks of the kinds asked for count as errors in the summary;
            # a server that had to be killed wrote none.
            self.assertIn("ERROR SUMMARY: 0 errors", log, log[-6000:])

    def test_handshake_session(self):
        self.mcp.close_stdin()             # the fixture's plain server
        self.mcp.wait_exit(120)
        media = os.path.join(self.work, "media")
        os.mkdir(media)
        clip = os.path.join(media, "clip.mp4")
        shutil.copy(SAMPLE_MP4, clip)

        def answer(req):
            if req["method"] == "roots/list":
                return {"roots": [{"uri": file_uri(self.work)}]}
            if req["method"] == "elicitation/create":
                return {"action": "accept", "content": {"q1": "9:16"}}
            return {"error": {"code": -32601, "message": "no"}}

        mcp = self.start_server(caps={"elicitation": {}, "roots": {}},
                                initialize=False)
        mcp.on_request = answer
        mcp.initialize(capabilities={"elicitation": {}, "roots": {}})
        sid = self.session(mcp)
        uri = "nemo://sessions/%s/timeline" % sid
        self.assertIn("result", mcp.request("resources/read", {"uri": uri}))
        self.assertEqual(mcp.request("resources/subscribe",
                                     {"uri": uri})["result"], {})
        self.assertIn("result", mcp.request("prompts/get", {
            "name": "trim_clip", "arguments": {"clip": clip, "length": "10"}}))
        self.assertIn("result", mcp.request("completion/complete", {
            "ref": {"type": "ref/prompt", "name": "trim_clip"},
            "argument": {"name": "clip", "value": media + "/c"}}))
        self.ok("upload", {"files": [clip]}, mcp)
        st = self.ok("generate", {"prompt": "a video about cats [ask]",
                                  "wait_seconds": 60}, mcp)
        self.assertEqual(st["status"], "completed")
        self.rb.set_state(sid, draft=SEED_DRAFT)
        st = self.ok("export", {"download_to": self.work,
                                "wait_seconds": 60}, mcp)
        self.assertTrue(os.path.exists(st["path"]))
        st = self.ok("generate", {"prompt": "add a title",
                                  "wait_seconds": 0}, mcp)
        self.ok("job", {"job": st["job"], "wait_seconds": 60}, mcp)
        self.assertTrue(mcp.notifications("notifications/resources/updated"))
        self.assert_no_token_in_output(mcp)

    def test_stateless_session(self):
        mcp = self.mcp
        self.session(mcp)
        caps = {"elicitation": {}}
        params = {"name": "generate",
                  "arguments": {"prompt": "a video about dogs [ask]",
                                "wait_seconds": 60}}
        r = mcp.request("tools/call", params,
                        meta=mcp.stateless_meta(capabilities=caps))["result"]
        self.assertEqual(r["resultType"], "input_required", r)
        r = mcp.request("tools/call", dict(params, requestState=r[
            "requestState"], inputResponses={"nemo_ask": {
                "action": "accept", "content": {"q1": "1:1"}}}),
            meta=mcp.stateless_meta(capabilities=caps))["result"]
        self.assertEqual(r["structuredContent"]["status"], "completed",
                         text_of(r))
        sid = self.session(mcp)
        uri = "nemo://sessions/%s/timeline" % sid
        mcp.request_async("subscriptions/listen", {"notifications": {
            "resourceSubscriptions": [uri], "resourcesListChanged": True}},
            meta=mcp.stateless_meta(), rid="listen:1")
        mcp.wait_for(lambda n: n.get("method") ==
                     "notifications/subscriptions/acknowledged",
                     what="acknowledgement")
        mcp.call_tool("upload", {"files": [SAMPLE_MP4]}, era=STATELESS)
        mcp.wait_for(lambda n: n.get("method") ==
                     "notifications/resources/updated" and
                     n["params"]["_meta"][SUB_KEY] == "listen:1",
                     what="the stream's notice")
        mcp.notify("notifications/cancelled", {"requestId": "listen:1"})
        mcp.request_async("subscriptions/listen", {"notifications": {
            "resourcesListChanged": True}}, meta=mcp.stateless_meta(),
            rid="listen:2")
        mcp.wait_for(lambda n: n.get("method") ==
                     "notifications/subscriptions/acknowledged" and
                     n["params"]["_meta"][SUB_KEY] == "listen:2",
                     what="second acknowledgement")
        # Shutdown with the second stream open (stop_server).

    def test_shutdown_mid_turn(self):
        self.session()
        self.rb.config(turn_ms=60000)
        self.mcp.call_tool_async("generate", {"prompt": "a long edit",
                                              "wait_seconds": 60},
                                 progress_token="p")
        self.mcp.wait_for(lambda m: m.get("method") ==
                          "notifications/progress", what="progress")
        # stop_server closes stdin with the turn still streaming.

    def test_shutdown_while_asking(self):
        self.mcp.close_stdin()
        self.mcp.wait_exit(120)
        mcp = self.start_server(caps={"elicitation": {}})
        mcp.on_request = lambda req: None          # never answered
        self.session(mcp)
        mcp.call_tool_async("generate", {"prompt": "a video [ask]",
                                         "wait_seconds": 60})
        mcp.wait_for(lambda m: m.get("method") == "elicitation/create",
                     what="the question")


if __name__ == "__main__":
    unittest.main()
