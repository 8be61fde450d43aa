"""export: render, poll with progress, download into place (never over an
existing file, nothing left behind on failure), refuse an empty draft, and
send the attribution headers so the backend does not answer 402."""
import os
import unittest

from mcpclient import text_of
from tools_fixture import SAMPLE_MP4, SEED_DRAFT, ToolsCase


class Export(ToolsCase):
    def setUp(self):
        super().setUp()
        self.sid = self.session()
        self.rb.set_state(self.sid, draft=SEED_DRAFT)

    def renders(self, method=None):
        return [r for r in self.requests("/api/render/proxy/lambda")
                if method is None or r["method"] == method]

    def test_render_and_download_into_folder(self):
        # Polls slower than the MCP layer's progress throttle (100 ms), so
        # every render step reaches the client as its own notification.
        self.mcp = self.start_server({"NEMO_RENDER_POLL_MS": "150"})
        r = self.mcp.call_tool("export", {"download_to": self.work,
                                          "wait_seconds": 30},
                               progress_token="ex")
        res = r["result"]
        self.assertFalse(res.get("isError"), text_of(res))
        st = res["structuredContent"]
        self.assertEqual(st["status"], "completed")
        self.assertTrue(st["render_id"].startswith("render_"))
        self.assertEqual(st["session"], self.sid)
        self.assertEqual(st["path"], os.path.join(self.work,
                                                  st["render_id"] + ".mp4"))
        self.assertEqual(st["bytes"], os.path.getsize(st["path"]))
        with open(st["path"], "rb") as fh:
            self.assertEqual(fh.read(12)[4:8], b"ftyp")
        self.assertEqual(os.listdir(self.work), [os.path.basename(
            st["path"])])
        self.assertIn(st["url"], text_of(res))
        self.assertIn(st["path"], text_of(res))
        # The render request: the chosen id, the draft, the output.
        start, = self.renders("POST")
        body = start["json"]
        self.assertEqual(body["id"], st["render_id"])
        self.assertEqual(body["sessionId"], self.sid)
        self.assertEqual(body["draft"], SEED_DRAFT)
        self.assertEqual(body["output"], {"format": "mp4",
                                          "quality": "high"})
        # Attribution headers are sent, so no 402.
        for req in self.renders():
            self.assertEqual(req["status"], 200)
            for h in ("x-skill-source", "x-skill-version",
                      "x-skill-platform"):
                self.assertTrue(req["headers_lower"].get(h), h)
        msgs = [n["params"].get("message", "") for n in
                self.mcp.notifications("notifications/progress")
                if n["params"]["progressToken"] == "ex"]
        self.assertTrue(any("rendering 66%" in m for m in msgs), msgs)

    def test_download_to_a_file_path(self):
        dest = os.path.join(self.work, "final.mp4")
        st = self.ok("export", {"download_to": dest, "wait_seconds": 30})
        self.assertEqual(st["path"], dest)
        self.assertTrue(os.path.isfile(dest))

    def test_existing_file_is_refused_before_rendering(self):
        dest = os.path.join(self.work, "keep.mp4")
        with open(dest, "wb") as fh:
            fh.write(b"precious")
        text = self.fails("export", {"download_to": dest})
        self.assertIn("already exists", text)
        self.assertIn("overwrite", text)
        self.assertEqual(self.renders(), [])
        with open(dest, "rb") as fh:
            self.assertEqual(fh.read(), b"precious")
        # overwrite replaces only an MP4: "precious" is not one.
        text = self.fails("export", {"download_to": dest, "overwrite": True})
        self.assertIn("not an MP4", text)
        self.assertEqual(self.renders(), [])
        with open(dest, "rb") as fh:
            self.assertEqual(fh.read(), b"precious")
        # An MP4 there is replaced.
        with open(SAMPLE_MP4, "rb") as src, open(dest, "wb") as fh:
            fh.write(src.read())
        st = self.ok("export", {"download_to": dest, "overwrite": True,
                                "wait_seconds": 30})
        self.assertEqual(st["bytes"], os.path.getsize(dest))
        with open(dest, "rb") as fh:
            self.assertEqual(fh.read(12)[4:8], b"ftyp")

    def test_missing_folder_is_refused(self):
        text = self.fails("export", {"download_to": os.path.join(
            self.work, "nope", "x.mp4")})
        self.assertIn("does not exist", text)
        self.assertEqual(self.renders(), [])

    def test_interrupted_download_leaves_nothing(self):
        self.rb.fault("/files/", "drop", after=10)
        dest = os.path.join(self.work, "out.mp4")
        text = self.fails("export", {"download_to": dest,
                                     "wait_seconds": 30})
        self.assertIn(dest, text)
        self.assertIn("/files/render_", text)   # the link still works
        self.assertEqual(os.listdir(self.work), [])

    def test_empty_draft_is_refused(self):
        new = self.ok("session", {"action": "new"})["session"]
        text = self.fails("export", {"wait_seconds": 30})
        self.assertIn("nothing to export", text)
        self.assertIn(new, text)
        self.assertEqual(self.renders(), [])

    def test_lost_session_is_refused_with_the_reason(self):
        self.rb.lose_session(self.sid)
        text = self.fails("export", {"wait_seconds": 30})
        self.assertIn("no longer existed", text)
        self.assertIn("nothing to export", text)
        self.assertEqual(self.renders(), [])

    def test_failed_render(self):
        self.rb.config(fail_next_render="GPU node lost")
        text = self.fails("export", {"wait_seconds": 30})
        self.assertIn("GPU node lost", text)

    def test_plan_restriction_is_not_called_credits(self):
        self.rb.fault("/api/render/proxy/lambda", "status", status=402,
                      method="POST")
        text = self.fails("export", {"wait_seconds": 30})
        self.assertIn("plan", text.lower())
        self.assertNotIn("out of credits", text.lower())

    def test_slow_render_collected_with_job(self):
        self.rb.config(render_steps=list(range(5, 100, 5)))
        st = self.ok("export", {"download_to": self.work,
                                "wait_seconds": 0})
        self.assertEqual(st["status"], "running")
        self.assertTrue(st["render_id"].startswith("render_"))
        done = self.ok("job", {"job": st["job"], "wait_seconds": 60})
        self.assertEqual(done["status"], "completed")
        self.assertEqual(done["render_id"], st["render_id"])
        self.assertTrue(os.path.isfile(done["path"]))
        self.assertEqual(len(self.renders("POST")), 1)

    def test_render_that_never_finishes_ends_with_a_clear_error(self):
        # Polls go on only until NEMO_RENDER_MAX_MS: then the job fails
        # with the reason and can be collected.
        self.rb.config(render_steps=[1] * 100000)
        mcp = self.start_server({"NEMO_RENDER_MAX_MS": "300"})
        st = self.ok("export", {"wait_seconds": 0}, mcp)
        res = self.call("job", {"job": st["job"], "wait_seconds": 60}, mcp)
        self.assertTrue(res.get("isError"), text_of(res))
        self.assertIn("has not finished after", text_of(res))
        self.assertIn("NEMO_RENDER_MAX_MS", text_of(res))
        self.assertIn("gave up", text_of(res))
        polls = [r for r in self.renders() if r["method"] == "GET"]
        self.assertLess(len(polls), 1000)
        self.assertEqual(len(self.renders("POST")), 1)
        listed = self.ok("job", {}, mcp)["jobs"]
        self.assertEqual([j["status"] for j in listed
                          if j["job"] == st["job"]], ["failed"])

    def test_cancel_says_the_render_goes_on(self):
        self.rb.config(render_steps=[1] * 5000)
        st = self.ok("export", {"wait_seconds": 0})
        res = self.call("job", {"job": st["job"], "cancel": True})
        c = res["structuredContent"]
        self.assertEqual(c["status"], "cancelled")
        self.assertIn("server", c["note"])
        self.assertIn("keeps running", text_of(res))


if __name__ == "__main__":
    unittest.main()
