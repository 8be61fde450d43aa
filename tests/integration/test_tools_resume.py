"""The tools' resumers: a server killed with SIGKILL leaves its jobs in the
journal, and a new process picks them up: a render is polled (never
started twice) and downloaded; a turn whose stream died is reported from
the timeline (completed with the changes, or interrupted)."""
import os
import signal
import unittest

from mcpclient import text_of
from tools_fixture import SEED_DRAFT, ToolsCase, wait_until


class Resume(ToolsCase):
    def kill(self, mcp):
        mcp.proc.send_signal(signal.SIGKILL)
        mcp.proc.wait(10)

    def turn_finished(self):
        turns = self.requests("/run_sse")
        return turns and turns[-1]["done"] and turns[-1].get("sse")

    def test_render_resumed_and_downloaded(self):
        sid = self.session()
        self.rb.set_state(sid, draft=SEED_DRAFT)
        self.rb.config(render_steps=list(range(1, 100)))
        st = self.ok("export", {"download_to": self.work,
                                "wait_seconds": 0})
        self.assertEqual(st["status"], "running")
        self.rb.wait_for_request("/api/render/proxy/lambda/", count=2)
        self.kill(self.mcp)
        fresh = self.start_server()
        done = self.ok("job", {"job": st["job"], "wait_seconds": 60}, fresh)
        self.assertEqual(done["status"], "completed")
        self.assertEqual(done["render_id"], st["render_id"])
        self.assertTrue(os.path.isfile(done["path"]))
        with open(done["path"], "rb") as fh:
            self.assertEqual(fh.read(8)[4:], b"ftyp")
        starts = [r for r in self.requests("/api/render/proxy/lambda")
                  if r["method"] == "POST"]
        self.assertEqual(len(starts), 1)
        self.assertEqual([f for f in os.listdir(self.work)],
                         [os.path.basename(done["path"])])

    def test_render_journalled_by_an_older_version_is_resumed(self):
        # Older versions kept jobs/ in the shared config dir: a render
        # mid-way there is moved into the state dir once and resumed.
        sid = self.session()
        self.rb.set_state(sid, draft=SEED_DRAFT)
        self.rb.config(render_steps=list(range(1, 100)))
        st = self.ok("export", {"download_to": self.work,
                                "wait_seconds": 0})
        self.rb.wait_for_request("/api/render/proxy/lambda/", count=2)
        self.kill(self.mcp)
        new_jobs = os.path.join(self.state_dir, "jobs")
        old_jobs = os.path.join(self.config_dir, "jobs")
        os.mkdir(old_jobs, 0o700)
        for n in os.listdir(new_jobs):
            if not n.endswith(".lock"):
                os.rename(os.path.join(new_jobs, n), os.path.join(old_jobs, n))
        # What the journal reader would not take stays where it is.
        bad = {"corruptjob1.json": "{not json",
               "mismatch01.json": '{"id":"someoneelse1","status":"running"}',
               "notarecord": "x", "oldjob0001.lock": ""}
        for n, body in bad.items():
            with open(os.path.join(old_jobs, n), "w") as fh:
                fh.write(body)
        os.symlink(os.path.join(old_jobs, "mismatch01.json"),
                   os.path.join(old_jobs, "symlinked01.json"))
        fresh = self.start_server()
        done = self.ok("job", {"job": st["job"], "wait_seconds": 60}, fresh)
        self.assertEqual(done["status"], "completed")
        self.assertEqual(done["render_id"], st["render_id"])
        self.assertTrue(os.path.isfile(done["path"]))
        starts = [r for r in self.requests("/api/render/proxy/lambda")
                  if r["method"] == "POST"]
        self.assertEqual(len(starts), 1)
        self.assertEqual(sorted(os.listdir(old_jobs)),
                         sorted(list(bad) + ["symlinked01.json"]))
        for n in list(bad) + ["symlinked01.json"]:
            self.assertNotIn(n, os.listdir(new_jobs))
        err = fresh.stderr()
        self.assertIn("not moving", err)
        self.assertIn("corruptjob1.json", err)
        self.assertIn("mismatch01.json", err)
        self.assertNotIn("oldjob0001.lock", err)   # not a record: silent

    def test_turn_that_changed_the_timeline(self):
        self.session()
        self.rb.next_turn("text", delay_ms=800)
        st = self.ok("generate", {"prompt": "add some upbeat music",
                                  "wait_seconds": 0})
        self.rb.wait_for_request("/run_sse")
        self.kill(self.mcp)
        # The backend notices the client left and applies the edit.
        wait_until(self.turn_finished, what="the backend to end the turn")
        fresh = self.start_server()
        res = self.call("job", {"job": st["job"], "wait_seconds": 30},
                        fresh)
        done = res["structuredContent"]
        self.assertEqual(done["status"], "completed")
        self.assertTrue(done["timeline_changed"])
        self.assertTrue(any("Upbeat" in c for c in done["changes"]),
                        done["changes"])
        self.assertIn("restarted", done["reply"])
        self.assertEqual(len(self.requests("/run_sse")), 1)

    def test_turn_that_changed_nothing_is_interrupted(self):
        self.session()
        self.rb.next_turn("text", delay_ms=800)
        st = self.ok("generate", {"prompt": "what do you think of it?",
                                  "wait_seconds": 0})
        self.rb.wait_for_request("/run_sse")
        self.kill(self.mcp)
        wait_until(self.turn_finished, what="the backend to end the turn")
        fresh = self.start_server()
        res = self.call("job", {"job": st["job"], "wait_seconds": 30},
                        fresh)
        self.assertFalse(res.get("isError"), text_of(res))
        done = res["structuredContent"]
        self.assertEqual(done["status"], "interrupted")
        self.assertIn("ask again", done["reply"].lower())
        self.assertEqual(self.ok("job", {}, fresh)["jobs"][0]["status"],
                         "interrupted")
        self.assertEqual(len(self.requests("/run_sse")), 1)


if __name__ == "__main__":
    unittest.main()
