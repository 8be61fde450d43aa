"""Roots over pipes (handshake era): a client that declares roots is asked
roots/list after notifications/initialized and again on
notifications/roots/list_changed; upload then reads only inside those
folders and export saves only inside them (intersected with
NEMO_UPLOAD_ROOTS / NEMO_DOWNLOAD_ROOTS), a refusal names the allowed
folders, non-file URIs are refused, a call made before the answer waits
for it, and a client without roots is never asked. Every server message is
checked against the schema of its era (roots/list as a ServerRequest)."""
import os
import shutil
import time
import unittest
import urllib.parse

from mcpclient import HANDSHAKE, McpProcess, text_of
from tools_fixture import SAMPLE_MP4, SEED_DRAFT, ToolsCase
import schemacheck


def file_uri(path):
    return "file://" + urllib.parse.quote(path)


class Roots(ToolsCase):
    def setUp(self):
        super().setUp()
        self.inside = os.path.join(self.work, "my media")   # a space: %20
        self.other = os.path.join(self.work, "other")
        for d in (self.inside, self.other):
            os.makedirs(d)
            shutil.copy(SAMPLE_MP4, os.path.join(d, "clip.mp4"))
        self.answered = set()

    def stop_server(self, mcp):
        super().stop_server(mcp)
        schemacheck.check_transcript(mcp.sent, mcp.messages)

    def server(self, caps, env=None):
        m = McpProcess(env=self.server_env(env), config_dir=self.config_dir,
                       timeout=30)
        self.addCleanup(self.stop_server, m)
        m.on_request = lambda req: None   # this test answers by hand
        r = m.request("initialize", {"protocolVersion": HANDSHAKE,
                                     "capabilities": caps,
                                     "clientInfo": {"name": "t",
                                                    "version": "1"}})
        self.assertIn("result", r)
        m.notify("notifications/initialized")
        return m

    def roots_request(self, m):
        return m.wait_for(lambda x: x.get("method") == "roots/list" and
                          x.get("id") not in self.answered,
                          what="roots/list request")

    def answer(self, m, req, roots):
        self.answered.add(req["id"])
        m.send({"jsonrpc": "2.0", "id": req["id"],
                "result": {"roots": [{"uri": u, "name": "r"}
                                     for u in roots]}})

    def upload(self, m, path):
        return self.call("upload", {"files": [path]}, mcp=m)

    def test_uploads_stay_inside_the_roots(self):
        m = self.server({"roots": {"listChanged": True}})
        self.answer(m, self.roots_request(m), [file_uri(self.inside)])
        ok = self.upload(m, os.path.join(self.inside, "clip.mp4"))
        self.assertFalse(ok.get("isError"), text_of(ok))
        self.assertEqual(ok["structuredContent"]["uploaded"], 1)
        bad = self.upload(m, os.path.join(self.other, "clip.mp4"))
        text = text_of(bad)
        self.assertEqual(bad["structuredContent"]["uploaded"], 0, text)
        self.assertIn(self.inside, text)          # names the allowed folder
        self.assertIn("MCP roots", text)

    def test_exports_are_saved_only_inside_the_roots(self):
        m = self.server({"roots": {}})
        self.answer(m, self.roots_request(m), [file_uri(self.inside)])
        sid = self.session(m)
        self.rb.set_state(sid, draft=SEED_DRAFT)
        bad = self.call("export", {"download_to": self.other,
                                   "wait_seconds": 30}, mcp=m)
        self.assertTrue(bad.get("isError"), bad)
        self.assertIn("outside the folders exports may be saved to",
                      text_of(bad))
        self.assertIn(self.inside, text_of(bad))
        self.assertEqual(os.listdir(self.other), ["clip.mp4"])
        ok = self.call("export", {"download_to": self.inside,
                                  "wait_seconds": 30}, mcp=m)
        self.assertFalse(ok.get("isError"), text_of(ok))
        self.assertTrue(ok["structuredContent"]["path"].startswith(
            self.inside + "/"))

    def test_list_changed_asks_again(self):
        m = self.server({"roots": {"listChanged": True}})
        self.answer(m, self.roots_request(m), [file_uri(self.inside)])
        m.notify("notifications/roots/list_changed")
        self.answer(m, self.roots_request(m), [file_uri(self.other)])
        r = self.upload(m, os.path.join(self.other, "clip.mp4"))
        self.assertEqual(r["structuredContent"]["uploaded"], 1, text_of(r))
        r = self.upload(m, os.path.join(self.inside, "clip.mp4"))
        self.assertEqual(r["structuredContent"]["uploaded"], 0, text_of(r))

    def test_a_call_before_the_answer_waits_for_it(self):
        m = self.server({"roots": {}})
        req = self.roots_request(m)
        rid = m.call_tool_async("upload", {"files": [
            os.path.join(self.other, "clip.mp4")]})
        self.answer(m, req, [file_uri(self.inside)])
        r = m.wait_response(rid)["result"]
        self.assertEqual(r["structuredContent"]["uploaded"], 0, text_of(r))

    def test_unanswered_roots_hold_up_one_call_only(self):
        # A host that never answers roots/list: the first call waits its
        # bounded time, later ones do not wait again.
        m = self.server({"roots": {}}, {"NEMO_ROOTS_WAIT_MS": "1500"})
        self.roots_request(m)
        self.assertFalse(self.call("credits", mcp=m).get("isError"))
        t0 = time.monotonic()
        self.assertFalse(self.call("credits", mcp=m).get("isError"))
        self.assertLess(time.monotonic() - t0, 1.5)
        self.assertEqual(m.stderr().count("no roots/list answer"), 1,
                         m.stderr())

    def test_non_file_roots_admit_nothing(self):
        m = self.server({"roots": {}})
        self.answer(m, self.roots_request(m), ["https://example.com/x",
                                               "file://otherhost/tmp"])
        r = self.upload(m, os.path.join(self.inside, "clip.mp4"))
        self.assertEqual(r["structuredContent"]["uploaded"], 0, text_of(r))
        self.assertIn("ignoring root https://example.com/x", m.stderr())

    def test_intersection_with_env_roots(self):
        m = self.server({"roots": {}}, {"NEMO_UPLOAD_ROOTS": self.inside})
        # The host shares both folders; the environment allows one.
        self.answer(m, self.roots_request(m), [file_uri(self.inside),
                                               file_uri(self.other)])
        r = self.upload(m, os.path.join(self.other, "clip.mp4"))
        self.assertEqual(r["structuredContent"]["uploaded"], 0, text_of(r))
        r = self.upload(m, os.path.join(self.inside, "clip.mp4"))
        self.assertEqual(r["structuredContent"]["uploaded"], 1, text_of(r))

    def test_error_answer_keeps_no_limit(self):
        m = self.server({"roots": {}})
        req = self.roots_request(m)
        self.answered.add(req["id"])
        m.send({"jsonrpc": "2.0", "id": req["id"],
                "error": {"code": -32601, "message": "no roots here"}})
        r = self.upload(m, os.path.join(self.other, "clip.mp4"))
        self.assertEqual(r["structuredContent"]["uploaded"], 1, text_of(r))

    def test_no_roots_capability_no_request(self):
        m = self.server({})
        r = self.upload(m, os.path.join(self.other, "clip.mp4"))
        self.assertEqual(r["structuredContent"]["uploaded"], 1, text_of(r))
        m.notify("notifications/roots/list_changed")
        m.request("ping")
        self.assertFalse([x for x in m.messages
                          if x.get("method") == "roots/list"])


if __name__ == "__main__":
    unittest.main()
