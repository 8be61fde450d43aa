"""The service as NemoVideo's skill v1.9 documents it (issue 8), against the
reference backend's default ("current") shapes, with the older "seeds"
shapes still working:

- export: the start answer's render_id is polled; the poll answer is bare
  with pending/processing; a failed start is retried once with a new id;
  a completed render without output.url is fetched from
  <api>/api/render/proxy/<id>/download with auth;
- turns: a trailing "I encountered a temporary issue" is dropped; only
  heartbeats for NEMO_SSE_IDLE_MS is a timeout; a dropped or timed-out
  stream is never re-sent but recovered by reading the state (first wait
  NEMO_RECOVER_POLL_MS, then twice that, five reads), and the waits end at
  a cancel;
- state reports the canvas."""
import copy
import os
import sys
import time
import unittest

from mcpclient import text_of
from tools_fixture import SEED_DRAFT, TESTS, ToolsCase, wait_until

sys.path.insert(0, os.path.join(TESTS, "backend"))
from hostile import HostileBackend  # noqa: E402

LAMBDA = "/api/render/proxy/lambda"


class ExportDocumented(ToolsCase):
    def setUp(self):
        super().setUp()
        self.sid = self.session()
        self.rb.set_state(self.sid, draft=SEED_DRAFT)
        self.mcp = self.start_server({"NEMO_RENDER_POLL_MS": "5"})

    def starts(self):
        return [r for r in self.requests(LAMBDA) if r["method"] == "POST"]

    def polls(self):
        return [r["path"] for r in self.requests(LAMBDA)
                if r["method"] == "GET"]

    def test_start_answer_render_id_is_polled(self):
        # Polls slower than the progress throttle (100 ms): every step
        # reaches the client.
        self.mcp = self.start_server({"NEMO_RENDER_POLL_MS": "150"})
        r = self.mcp.call_tool("export", {"download_to": self.work,
                                          "wait_seconds": 30},
                               progress_token="ex")
        res = r["result"]
        self.assertFalse(res.get("isError"), text_of(res))
        st = res["structuredContent"]
        self.assertEqual(st["status"], "completed")
        start, = self.starts()
        self.assertEqual(start["json"]["id"], st["render_id"])
        polls = self.polls()
        self.assertGreaterEqual(len(polls), 3)
        # Every poll used the id the start answer named, not the one sent.
        for p in polls:
            self.assertTrue(p.startswith(LAMBDA + "/lambda_"), p)
        self.assertTrue(os.path.isfile(st["path"]))
        # The bare poll answers' pending/processing became progress.
        msgs = [n["params"].get("message", "") for n in
                self.mcp.notifications("notifications/progress")
                if n["params"]["progressToken"] == "ex"]
        self.assertTrue(any("rendering 33%" in m for m in msgs), msgs)

    def test_failed_start_retried_once_with_a_new_id(self):
        self.rb.fault(LAMBDA, "status", status=500, method="POST", count=1)
        began = self.ok("export", {"wait_seconds": 0})
        st = self.ok("job", {"job": began["job"], "wait_seconds": 30})
        self.assertEqual(st["status"], "completed")
        first, second = self.starts()
        self.assertEqual((first["status"], second["status"]), (500, 200))
        # The retry sent a new id (the first one was refused before its
        # body was read, so the handoff's id is the first one).
        self.assertEqual(st["render_id"], second["json"]["id"])
        self.assertNotEqual(st["render_id"], began["render_id"])

    def test_start_failing_twice_gives_up(self):
        self.rb.fault(LAMBDA, "status", status=503, method="POST", count=2)
        text = self.fails("export", {"wait_seconds": 30})
        self.assertTrue(text)
        self.assertEqual(len(self.starts()), 2)
        self.assertEqual(self.polls(), [])

    def test_refusals_are_not_retried(self):
        self.rb.fault(LAMBDA, "status", status=402, method="POST", count=1)
        self.assertIn("plan", self.fails("export",
                                         {"wait_seconds": 30}).lower())
        self.assertEqual(len(self.starts()), 1)

    def test_no_output_url_downloads_from_the_api(self):
        self.rb.config(render_url=False)
        st = self.ok("export", {"download_to": self.work,
                                "wait_seconds": 30})
        self.assertEqual(st["status"], "completed")
        with open(st["path"], "rb") as fh:
            self.assertEqual(fh.read(12)[4:8], b"ftyp")
        dl, = [r for r in self.requests("/api/render/proxy/")
               if r["path"].endswith("/download")]
        self.assertTrue(dl["path"].startswith("/api/render/proxy/lambda_"))
        self.assertEqual(dl["status"], 200)
        self.assertEqual(dl["headers_lower"]["authorization"],
                         "Bearer " + self.token)
        self.assertEqual(st["url"], self.rb.url + dl["path"])

    def test_no_output_url_without_download_to_says_how(self):
        self.rb.config(render_url=False)
        res = self.call("export", {"wait_seconds": 30})
        self.assertFalse(res.get("isError"), text_of(res))
        st = res["structuredContent"]
        self.assertTrue(st["url"].endswith("/download"))
        self.assertIn("download_to", text_of(res))

    def test_older_shapes_still_work(self):
        self.rb.config(shapes="seeds")
        st = self.ok("export", {"download_to": self.work,
                                "wait_seconds": 30})
        self.assertEqual(st["status"], "completed")
        for p in self.polls():
            self.assertEqual(p, LAMBDA + "/" + st["render_id"])
        self.assertTrue(os.path.isfile(st["path"]))


class TurnsDocumented(ToolsCase):
    def start_quick(self, idle_ms="300", recover_ms="100"):
        self.mcp = self.start_server({"NEMO_SSE_IDLE_MS": idle_ms,
                                      "NEMO_RECOVER_POLL_MS": recover_ms})

    def test_trailing_temporary_issue_dropped(self):
        for prompt, kept in (("add lo-fi music", "Added background music"),
                             ("添加轻松的音乐", "已添加背景音乐")):
            with self.subTest(prompt=prompt):
                self.rb.next_turn("text", temporary_issue=True)
                res = self.call("generate", {"prompt": prompt,
                                             "wait_seconds": 30})
                st = res["structuredContent"]
                self.assertEqual(st["status"], "completed")
                self.assertIn(kept, st["reply"])
                for noise in ("temporary issue", "临时问题"):
                    self.assertNotIn(noise, st["reply"])
                    self.assertNotIn(noise, text_of(res))
                self.assertTrue(self.rb.requests("/run_sse")[-1]["sse"][
                    "temporary_issue"])

    def test_temporary_issue_alone_is_kept(self):
        said = "I encountered a temporary issue. Please try again later."
        self.rb.next_turn("text", text=said, temporary_issue=False)
        st = self.ok("generate", {"prompt": "hello", "wait_seconds": 30})
        self.assertIn(said, st["reply"])

    def test_heartbeats_only_times_out_then_recovers_the_change(self):
        self.start_quick()
        self.rb.next_turn("heartbeats")
        res = self.call("generate", {"prompt": "add lo-fi music",
                                     "wait_seconds": 60})
        self.assertFalse(res.get("isError"), text_of(res))
        st = res["structuredContent"]
        self.assertEqual(st["status"], "completed")
        self.assertTrue(st["timeline_changed"])
        self.assertTrue(any("Lo-fi" in c for c in st["changes"]),
                        st["changes"])
        self.assertIn("connection to the video agent was lost", st["reply"])
        self.assertIn("only heartbeats", st["reply"])
        self.assertIn("Lo-fi", text_of(res))
        # Never re-sent.
        self.assertEqual(len(self.requests("/run_sse")), 1)

    def test_nothing_changed_fails_with_the_advice_to_try_again(self):
        self.start_quick(recover_ms="20")
        self.rb.next_turn("heartbeats")
        t0 = time.monotonic()
        text = self.fails("generate", {"prompt": "hello there",
                                       "wait_seconds": 60})
        self.assertIn("Try again", text)
        self.assertIn("not sent again", text)
        self.assertIn("5 times", text)
        # First wait 20 ms, then 40 ms: four times 40 + 20 at the least.
        self.assertGreaterEqual(time.monotonic() - t0, 0.18)
        run, = self.requests("/run_sse")
        reads = [r for r in self.requests("/api/state/", since=run["seq"])]
        self.assertEqual(len(reads), 5)
        self.assertEqual(len(self.requests("/run_sse")), 1)

    def test_silent_stream_times_out_too(self):
        # Headers, one heartbeat, then nothing at all: the idle limit
        # still ends the wait (libcurl's low-speed limit), then recovery.
        self.start_quick(idle_ms="1000", recover_ms="20")
        self.rb.config(heartbeat_ms=60000)
        self.rb.next_turn("heartbeats")
        t0 = time.monotonic()
        text = self.fails("generate", {"prompt": "hello there",
                                       "wait_seconds": 60})
        self.assertIn("only heartbeats", text)
        self.assertIn("Try again", text)
        self.assertLess(time.monotonic() - t0, 30)
        self.assertEqual(len(self.requests("/run_sse")), 1)

    def test_a_change_the_summary_does_not_show_counts(self):
        self.start_quick(recover_ms="100")
        sid = self.session()
        self.rb.set_state(sid, draft=SEED_DRAFT)
        faster = copy.deepcopy(SEED_DRAFT)
        faster["t"][0]["sg"][0]["m"]["speed"] = 2
        self.rb.next_turn("heartbeats", draft=faster)
        st = self.ok("generate", {"prompt": "hello there",
                                  "wait_seconds": 60})
        self.assertEqual(st["status"], "completed")
        self.assertTrue(st["timeline_changed"])
        self.assertEqual(st["changes"], [])
        self.assertIn("does not show", st["reply"])
        self.assertEqual(self.rb.state(sid)["draft"], faster)

    def test_dropped_stream_recovered_without_resending(self):
        self.start_quick()
        # call, response, two of the three partial chunks, then the drop
        self.rb.fault("/run_sse", "drop", after=4)
        st = self.ok("generate", {"prompt": "add lo-fi music",
                                  "wait_seconds": 60})
        self.assertEqual(st["status"], "completed")
        self.assertTrue(st["timeline_changed"])
        self.assertIn("connection to the video agent was lost", st["reply"])
        self.assertIn("What it had said so far: Added background music",
                      st["reply"])
        self.assertEqual(self.rb.requests("/run_sse")[-1]["sse"]["outcome"],
                         "dropped")
        self.assertEqual(len(self.requests("/run_sse")), 1)

    def test_unreadable_state_says_so(self):
        self.mcp = self.start_server({"NEMO_SSE_IDLE_MS": "300",
                                      "NEMO_RECOVER_POLL_MS": "200",
                                      "NEMO_RETRY_BACKOFF_MS": "1"})
        self.rb.fault("/run_sse", "drop", after=1)
        st = self.ok("generate", {"prompt": "hello there",
                                  "wait_seconds": 0})
        # The read before the turn worked; every read after it fails (the
        # first one is 200 ms after the drop).
        self.rb.wait_for_request("/run_sse", done=True, timeout=10)
        self.rb.fault("/api/state/", "status", status=503, count=0)
        done = self.call("job", {"job": st["job"], "wait_seconds": 30})
        self.assertTrue(done.get("isError"), done)
        self.assertIn("could not be read", text_of(done))
        self.assertIn("`state`", text_of(done))
        self.assertEqual(len(self.requests("/run_sse")), 1)

    def test_recovery_waits_end_at_a_cancel(self):
        self.start_quick(recover_ms="600000")
        self.rb.fault("/run_sse", "drop", after=1)
        st = self.ok("generate", {"prompt": "hello there",
                                  "wait_seconds": 0})
        self.rb.wait_for_request("/run_sse", done=True, timeout=10)
        wait_until(lambda: "checking the timeline" in text_of(self.call(
            "job", {"job": st["job"], "wait_seconds": 0})), 10,
            "the recovery to start")
        t0 = time.monotonic()
        c = self.ok("job", {"job": st["job"], "cancel": True})
        self.assertEqual(c["status"], "cancelled")
        done = self.ok("job", {"job": st["job"], "wait_seconds": 10})
        self.assertEqual(done["status"], "cancelled")
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(len(self.requests("/run_sse")), 1)


class HostileProgress(ToolsCase):
    """Issue 11, finding 16: a render progress such as "nan%" never
    reaches the host as NaN (or as an absurd number)."""
    backend_class = HostileBackend

    def test_absurd_progress_is_unknown(self):
        sid = self.session()
        self.rb.set_state(sid, draft=SEED_DRAFT)
        # Polls slower than the progress throttle: every step is sent.
        self.mcp = self.start_server({"NEMO_RENDER_POLL_MS": "150"})
        for bad in ("nan%", "NaN", "1e999%", "-inf", 1e300):
            with self.subTest(progress=bad):
                self.rb.attack(render_progress=bad)
                self.rb.config(render_steps=[10, 20])
                token = "p-%s" % bad
                r = self.mcp.call_tool("export", {"wait_seconds": 30},
                                       progress_token=token)
                self.assertFalse(r["result"].get("isError"),
                                 text_of(r["result"]))
                notes = [n["params"] for n in
                         self.mcp.notifications("notifications/progress")
                         if n["params"]["progressToken"] == token]
                msgs = [n.get("message", "") for n in notes]
                # No percentage: "rendering" (the host may prefix it).
                self.assertTrue(any(m.endswith("rendering") for m in msgs),
                                msgs)
                self.assertFalse(any("%" in m for m in msgs), msgs)
                for n in notes:
                    self.assertNotIn("nan", n.get("message", "").lower())
                    self.assertNotIn("inf", n.get("message", "").lower())
                    self.assertIsInstance(n["progress"], (int, float))
                    self.assertTrue(0 <= n["progress"] < 1e9, n)


class StateCanvas(ToolsCase):
    def test_state_reports_the_canvas(self):
        sid = self.session()
        self.rb.set_state(sid, draft=SEED_DRAFT)
        res = self.call("state")
        st = res["structuredContent"]
        self.assertEqual(st["canvas"], {"width": 1920, "height": 1080,
                                        "aspect_ratio": "16:9"})
        self.assertIn("Canvas: 1920x1080 (16:9).", text_of(res))
        self.rb.set_state(sid, canvas_config={"ratio": "9:16"})
        res = self.call("state")
        self.assertEqual(res["structuredContent"]["canvas"],
                         {"aspect_ratio": "9:16"})
        self.assertIn("Canvas: aspect ratio 9:16.", text_of(res))
        self.ok("state")            # schema-checked
        self.rb.config(shapes="seeds")
        st = self.ok("state")
        self.assertNotIn("canvas", st)

    def test_generate_state_route_reports_the_canvas_like_state(self):
        sid = self.session()
        self.rb.set_state(sid, draft=SEED_DRAFT)
        gen = self.call("generate", {"prompt": "show me the timeline"})
        st = gen["structuredContent"]
        self.assertEqual(st["route"], "state")
        self.assertEqual(st["canvas"], {"width": 1920, "height": 1080,
                                        "aspect_ratio": "16:9"})
        self.assertIn("Canvas: 1920x1080 (16:9).", text_of(gen))
        state = self.call("state")
        self.assertEqual(st["canvas"], state["structuredContent"]["canvas"])
        self.ok("generate", {"prompt": "show me the timeline"})  # schema


if __name__ == "__main__":
    unittest.main()
