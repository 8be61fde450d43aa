"""upload: local files are checked before any byte leaves the machine, one
entry per input in input order, and rejected inputs never reach the
backend."""
import os
import shutil
import time
import unittest

from mcpclient import text_of
from tools_fixture import SAMPLE_MP4, ToolsCase, output_schema, schema_errors

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\0" * 64


class Upload(ToolsCase):
    def put(self, name, data=None, copy=None):
        path = os.path.join(self.work, name)
        if copy:
            shutil.copyfile(copy, path)
        else:
            with open(path, "wb") as fh:
                fh.write(data)
        return path

    def uploads(self, since=0):
        return self.requests("/api/upload-video", since)

    def test_files_and_urls_in_order(self):
        clip = self.put("clip.mp4", copy=SAMPLE_MP4)
        pic = self.put("pic.png", PNG)
        res = self.call("upload", {
            "files": [clip, pic],
            "urls": ["https://cdn.example.com/media/song.mp3?x=1"]})
        self.last_text = text_of(res)
        st = res["structuredContent"]
        self.assertEqual(schema_errors(output_schema("upload"), st), [])
        sid = self.session()
        self.assertEqual(st["session"], sid)
        self.assertEqual((st["uploaded"], st["rejected"], st["failed"]),
                         (3, 0, 0))
        files = st["files"]
        self.assertEqual([f["source"] for f in files],
                         [clip, pic, "https://cdn.example.com/media/song.mp3"
                          "?x=1"])
        self.assertEqual([f["name"] for f in files],
                         ["clip.mp4", "pic.png", "song.mp3"])
        self.assertEqual([f["type"] for f in files], ["video", "image", "url"])
        self.assertEqual(files[0]["bytes"], os.path.getsize(SAMPLE_MP4))
        self.assertNotIn("bytes", files[2])
        for f in files:
            self.assertEqual(f["status"], "uploaded")
            self.assertNotIn("reason", f)
        # What the backend said per file (data.files[{filename, file_type,
        # cdn_url, duration, width, height}]), in the result and the text.
        self.assertEqual([f["file_type"] for f in files],
                         ["video", "image", "audio"])
        self.assertEqual((files[0]["duration"], files[0]["width"],
                          files[0]["height"]), (10.0, 1920, 1080))
        self.assertEqual((files[1]["width"], files[1]["height"]),
                         (1024, 768))
        self.assertNotIn("width", files[2])
        self.assertEqual(files[2]["duration"], 30.5)
        self.assertTrue(files[0]["url"].startswith(self.rb.url + "/files/"))
        self.assertEqual(files[2]["url"],
                         "https://cdn.example.com/media/song.mp3?x=1")
        self.assertIs(st["session_state_applied"], True)
        text = self.last_text
        for f in files:
            self.assertIn(f["url"], text)
        self.assertIn("10.0 s, 1920x1080", text)
        self.assertIn("1024x768", text)
        self.assertIn("30.5 s", text)
        self.assertIn("added the media to the session's state", text)
        # The backend holds exactly what was sent, as multipart "files".
        ups = self.rb.state(sid)["uploads"]
        self.assertEqual([u["name"] for u in ups],
                         ["clip.mp4", "pic.png", "song.mp3"])
        self.assertEqual(ups[0]["size"], os.path.getsize(SAMPLE_MP4))
        parts = self.uploads()[0]["parts"]
        self.assertEqual([(p["name"], p["filename"]) for p in parts],
                         [("files", "clip.mp4")])
        text = text_of(self.call("state"))
        self.assertTrue(text)

    def test_older_answer_shape_keeps_ids(self):
        self.rb.config(shapes="seeds")
        clip = self.put("clip.mp4", copy=SAMPLE_MP4)
        st = self.ok("upload", {"files": [clip]})
        f, = st["files"]
        self.assertTrue(f["file_id"].startswith("file_"))
        self.assertEqual(f["file_type"], "video")
        self.assertTrue(f["url"].startswith(self.rb.url + "/files/"))
        self.assertNotIn("session_state_applied", st)
        self.assertNotIn("duration", f)

    def test_progress_is_reported(self):
        clip = self.put("clip.mp4", copy=SAMPLE_MP4)
        r = self.mcp.call_tool("upload", {"files": [clip]},
                               progress_token="up1")
        self.assertFalse(r["result"].get("isError"), r)
        msgs = [n["params"].get("message", "") for n in
                self.mcp.notifications("notifications/progress")
                if n["params"]["progressToken"] == "up1"]
        self.assertTrue(any("clip.mp4" in m for m in msgs), msgs)

    def rejected(self, args, extra_env=None):
        """Upload that must reject every input without any request."""
        mcp = self.start_server(extra_env) if extra_env else self.mcp
        before = self.seq()
        st = self.ok("upload", args, mcp)
        self.assertEqual(st["uploaded"], 0)
        for f in st["files"]:
            self.assertEqual(f["status"], "rejected")
            self.assertTrue(f["reason"])
        self.assertEqual(self.requests(since=before), [],
                         "the backend was contacted")
        return st["files"]

    def test_directory(self):
        f, = self.rejected({"files": [self.work]})
        self.assertIn("director", f["reason"].lower())

    def test_fifo(self):
        path = os.path.join(self.work, "pipe.mp4")
        os.mkfifo(path)
        f, = self.rejected({"files": [path]})
        self.assertTrue(f["reason"])

    def test_missing_file(self):
        f, = self.rejected({"files": [os.path.join(self.work, "no.mp4")]})
        self.assertEqual(f["name"], "no.mp4")
        self.assertNotIn("bytes", f)

    def test_wrong_type(self):
        f, = self.rejected({"files": [self.put("notes.txt", b"hello")]})
        self.assertIn("mp4", f["reason"])

    def test_mismatched_magic(self):
        f, = self.rejected({"files": [self.put("fake.mp4", PNG)]})
        self.assertTrue(f["reason"])

    def test_too_large(self):
        path = self.put("big.mp4", copy=SAMPLE_MP4)
        with open(path, "r+b") as fh:
            fh.truncate(500 * 1024 * 1024 + 1)   # sparse: no disk used
        f, = self.rejected({"files": [path]})
        self.assertIn("500", f["reason"])
        self.assertEqual(f["bytes"], 500 * 1024 * 1024 + 1)

    def test_skill_limit(self):
        skill = os.path.join(self.tmp, "SKILL.md")
        with open(skill, "w") as fh:
            fh.write("---\nname: small-skill\nversion: 1.0.0\n"
                     "maxUploadMB: 1\n---\n# small\n")
        path = self.put("mid.mp4", copy=SAMPLE_MP4)
        with open(path, "r+b") as fh:
            fh.truncate(2 * 1024 * 1024)
        mcp = self.start_server({"NEMO_SKILL_FILE": skill})
        before = self.seq()
        st = self.ok("upload", {"files": [path]}, mcp)
        self.assertEqual(st["files"][0]["status"], "rejected")
        self.assertTrue(st["files"][0]["reason"])
        self.assertEqual(self.requests(since=before), [])
        # The same file is fine under the default 500 MB limit.
        st = self.ok("upload", {"files": [path]})
        self.assertEqual(st["files"][0]["status"], "uploaded")

    def test_outside_upload_roots(self):
        inside = os.path.join(self.work, "in")
        os.mkdir(inside)
        outside = self.put("clip.mp4", copy=SAMPLE_MP4)
        link = os.path.join(inside, "link.mp4")
        os.symlink(outside, link)
        files = self.rejected({"files": [outside, link]},
                              {"NEMO_UPLOAD_ROOTS": inside})
        self.assertIn("NEMO_UPLOAD_ROOTS", files[0]["reason"])
        self.assertIn("NEMO_UPLOAD_ROOTS", files[1]["reason"])

    def test_bad_url_schemes(self):
        files = self.rejected({"urls": ["ftp://example.com/a.mp4",
                                        "file:///etc/passwd",
                                        "javascript:alert(1)"]})
        self.assertEqual([f["type"] for f in files], ["url"] * 3)

    def test_mixed_sends_only_the_accepted(self):
        good = self.put("good.mp4", copy=SAMPLE_MP4)
        st = self.ok("upload", {"files": [self.put("a.txt", b"x"), good,
                                          self.work],
                                "urls": ["ftp://x/y.mp4",
                                         "https://example.com/v.mp4"]})
        self.assertEqual([f["status"] for f in st["files"]],
                         ["rejected", "uploaded", "rejected", "rejected",
                          "uploaded"])
        self.assertEqual((st["uploaded"], st["rejected"]), (2, 3))
        ups = self.uploads()
        self.assertEqual(len(ups), 2)
        self.assertEqual([p["filename"] for p in ups[0]["parts"]],
                         ["good.mp4"])
        self.assertEqual(ups[1]["json"]["urls"], ["https://example.com/v.mp4"])

    def test_backend_refusal_is_reported_per_file(self):
        good = self.put("good.mp4", copy=SAMPLE_MP4)
        self.rb.fault("/api/upload-video", "code", code=4002)
        st = self.ok("upload", {"files": [good]})
        f = st["files"][0]
        self.assertEqual(f["status"], "rejected")
        self.assertTrue(f["reason"])

    def task_call(self, args):
        caps = {"extensions": {"io.modelcontextprotocol/tasks": {}}}
        r = self.mcp.request("tools/call", {"name": "upload",
                                            "arguments": args},
                             meta=self.mcp.stateless_meta(capabilities=caps))
        self.assertNotIn("error", r, r)
        return r["result"], caps

    def test_large_upload_runs_as_a_task(self):
        big = self.put("big.mp4", copy=SAMPLE_MP4)
        with open(big, "r+b") as fh:
            fh.truncate(60 * 1024 * 1024)     # above the 50 MB threshold
        res, caps = self.task_call({"files": [big]})
        self.assertEqual(res["resultType"], "task", res)
        task_id = res["taskId"]
        meta = self.mcp.stateless_meta(capabilities=caps)
        deadline = time.monotonic() + 60
        while True:
            got = self.mcp.request("tasks/get", {"taskId": task_id},
                                   meta=meta)["result"]
            if got["status"] != "working":
                break
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        self.assertEqual(got["status"], "completed", got)
        st = got["result"]["structuredContent"]
        self.assertEqual(st["files"][0]["status"], "uploaded")
        self.assertEqual(st["files"][0]["bytes"], 60 * 1024 * 1024)
        # The same handle works with the `job` tool, and it is journalled.
        self.assertEqual(self.ok("job", {"job": task_id})["files"],
                         st["files"])
        self.assertEqual(self.ok("job")["jobs"][0]["tool"], "upload")

    def test_small_upload_is_never_a_task(self):
        clip = self.put("clip.mp4", copy=SAMPLE_MP4)
        res, _ = self.task_call({"files": [clip]})
        self.assertNotEqual(res.get("resultType"), "task")
        self.assertEqual(res["structuredContent"]["uploaded"], 1)

    def test_lost_session_is_replaced_and_said(self):
        old = self.session()
        self.rb.lose_session(old)
        res = self.call("upload", {"files": [self.put("c.mp4",
                                                      copy=SAMPLE_MP4)]})
        st = res["structuredContent"]
        self.assertEqual(st["files"][0]["status"], "uploaded")
        self.assertTrue(st["session_reset"])
        self.assertNotEqual(st["session"], old)
        self.assertIn("new and empty", text_of(res))
        self.assertEqual(self.session(), st["session"])

    def test_no_inputs(self):
        text = self.fails("upload", {})
        self.assertIn("files", text)


if __name__ == "__main__":
    unittest.main()
