"""generate and job: intent routes, agent turns (partial + final text,
silent edits, GUI talk rewritten), bounded waits collected with `job`,
request_id retries that send nothing new, cancel, and error advice."""
import json
import unittest

from mcpclient import text_of
from tools_fixture import SEED_DRAFT, ToolsCase


def sse(*events):
    """A recorded stream: one data line per event, blank line after."""
    return "".join("data: %s\n\n" % json.dumps(e) for e in events)


def text_event(text, partial=False, complete=False):
    ev = {"author": "nemo_agent", "invocationId": "e-1",
          "content": {"role": "model", "parts": [{"text": text}]}}
    if partial:
        ev["partial"] = True
    if complete:
        ev["turnComplete"] = True
    return ev


class Routes(ToolsCase):
    def test_credits_route(self):
        self.rb.set_credits(42, token=self.token, frozen=0)
        for prompt in ("how many credits do I have?", "我的积分还有多少",
                       "what's my balance"):
            with self.subTest(prompt=prompt):
                st = self.ok("generate", {"prompt": prompt})
                self.assertEqual(st["route"], "credits")
                self.assertEqual(st["status"], "completed")
                self.assertIn("42 credits available", st["reply"])
        self.assertEqual(self.requests("/run_sse"), [])

    def test_state_route(self):
        self.rb.set_state(self.session(), draft=SEED_DRAFT)
        for prompt in ("show tracks", "状态"):
            with self.subTest(prompt=prompt):
                st = self.ok("generate", {"prompt": prompt})
                self.assertEqual(st["route"], "state")
                self.assertTrue(st["timeline_summary"].startswith(
                    "Timeline (3 tracks)"))
                self.assertEqual(st["reply"], st["timeline_summary"])
        self.assertEqual(self.requests("/run_sse"), [])

    def test_upload_route(self):
        st = self.ok("generate", {"prompt": "upload my clip please"})
        self.assertEqual(st["route"], "upload")
        self.assertIn("`upload`", st["reply"])
        self.assertEqual(st["actions"][0]["tool"], "upload")
        self.assertIn("files", st["actions"][0]["arguments"])
        self.assertEqual(self.requests(), [])

    def test_export_route(self):
        self.rb.set_state(self.session(), draft=SEED_DRAFT)
        st = self.ok("generate", {"prompt": "export the video",
                                  "wait_seconds": 30})
        self.assertEqual(st["route"], "export")
        self.assertEqual(st["status"], "completed")
        self.assertTrue(st["url"].endswith(".mp4"))
        self.assertIn(st["url"], st["reply"])
        self.assertEqual(len(self.requests("/api/render/proxy/lambda",
                                           )), 4)   # start + 3 polls
        self.assertEqual(self.requests("/run_sse"), [])
        self.assertEqual(self.requests("/files/"), [])   # no download


class Turns(ToolsCase):
    def test_text_turn(self):
        sid = self.session()
        self.rb.next_turn("text", text="Here is a plain answer about your "
                          "project, nothing to click.")
        res = self.call("generate", {"prompt": "what can you do?",
                                     "wait_seconds": 30})
        st = res["structuredContent"]
        self.assertEqual((st["status"], st["route"], st["session"]),
                         ("completed", "agent", sid))
        self.assertTrue(st["job"].startswith("job_"))
        self.assertIn("plain answer", st["reply"])
        self.assertIn("plain answer", text_of(res))
        turn = self.requests("/run_sse")
        self.assertEqual(len(turn), 1)
        self.assertEqual(turn[0]["json"]["new_message"]["parts"][0]["text"],
                         "what can you do?")
        self.assertEqual(turn[0]["json"]["session_id"], sid)
        self.assertFalse(st["timeline_changed"])

    def test_partial_and_final_text_once(self):
        self.rb.next_turn("text", events=sse(
            text_event("The clip ", partial=True),
            text_event("is ready ", partial=True),
            text_event("now.", partial=True),
            text_event("The clip is ready now.", complete=True)))
        st = self.ok("generate", {"prompt": "how is it going",
                                  "wait_seconds": 30})
        self.assertEqual(st["reply"].count("The clip is ready now."), 1)
        self.assertEqual(st["reply"].count("The clip"), 1)

    def test_edit_turn_lists_changes_and_rewrites_gui_talk(self):
        self.rb.set_state(self.session(), draft={"d": 0, "t": []})
        st = self.ok("generate", {"prompt": "generate a 10 second clip of a "
                                  "city timelapse", "wait_seconds": 30})
        self.assertTrue(st["timeline_changed"])
        self.assertTrue(any("Video" in c or "city" in c
                            for c in st["changes"]), st["changes"])
        self.assertTrue(st["timeline_summary"].startswith(
            "Timeline (1 track"))
        self.assertEqual(st["generated_media"][0]["type"], "video")
        # The backend said "Open the timeline panel to preview" and
        # "Click the Export button to download your video."
        sent = self.requests("/run_sse")[0]["sse"]["text"]
        self.assertIn("Click the Export button", sent)
        self.assertNotIn("Click the Export button", st["reply"])
        self.assertNotIn("timeline panel", st["reply"])
        tools = [a["tool"] for a in st["actions"]]
        self.assertIn("export", tools)
        for a in st["actions"]:
            self.assertEqual(set(a), {"tool", "arguments", "why"})

    def test_chinese_gui_talk(self):
        st = self.ok("generate", {"prompt": "生成一个5秒的城市视频",
                                  "wait_seconds": 30})
        sent = self.requests("/run_sse")[0]["sse"]["text"]
        self.assertIn("点击导出按钮", sent)
        self.assertNotIn("点击导出按钮", st["reply"])
        self.assertIn("export", [a["tool"] for a in st["actions"]])

    def test_silent_edit_lists_changes(self):
        sid = self.session()
        self.rb.set_state(sid, draft={"d": 10000, "t": [
            {"tt": 0, "m": {"name": "Video"},
             "sg": [{"s": 0, "d": 10000, "m": {"label": "city"}}]}]})
        self.rb.next_turn("silent")
        res = self.call("generate", {"prompt": "add some lo-fi music",
                                     "wait_seconds": 30})
        st = res["structuredContent"]
        self.assertEqual(self.requests("/run_sse")[0]["sse"]["mode"],
                         "silent")
        self.assertTrue(st["timeline_changed"])
        self.assertTrue(any("Lo-fi" in c for c in st["changes"]),
                        st["changes"])
        self.assertIn("without a written reply", st["reply"])
        self.assertIn("Lo-fi", text_of(res))
        self.assertIn("BGM", st["timeline_summary"])

    def test_silent_turn_without_change(self):
        self.rb.next_turn("silent")
        st = self.ok("generate", {"prompt": "hmm", "wait_seconds": 30})
        self.assertFalse(st["timeline_changed"])
        self.assertEqual(st["changes"], [])
        self.assertIn("nothing visible changed", st["reply"])

    def test_error_event_fails_the_call(self):
        self.rb.next_turn("error", error_message="The agent failed to "
                          "finish this step.")
        text = self.fails("generate", {"prompt": "add music",
                                       "wait_seconds": 30})
        self.assertIn("failed to finish this step", text)

    def test_out_of_credits(self):
        self.rb.set_credits(0, token=self.token)
        text = self.fails("generate", {"prompt": "generate a sunset clip",
                                       "wait_seconds": 30})
        # No link in the error: built on the web base with the anonymous
        # user_id the session answer gave (NEMO_TOKEN has no token answer).
        user = self.rb.state(self.session())["bind_id"]
        self.assertTrue(user.startswith("anon_"))
        self.assertIn("https://nemovideo.com/register?bind=" + user, text)
        self.assertNotIn(self.token, text)
        # a backend that sends its own link (the older shape): that one
        self.rb.config(credits_error_link=True)
        text = self.fails("generate", {"prompt": "generate a sunset clip",
                                       "wait_seconds": 30})
        self.assertIn("www.nemovideo.ai/register?bind=" + user, text)

    def test_lost_session_is_replaced_and_said(self):
        old = self.session()
        self.rb.lose_session(old)
        res = self.call("generate", {"prompt": "add a title \"Again\"",
                                     "wait_seconds": 30})
        self.assertFalse(res.get("isError"), text_of(res))
        st = res["structuredContent"]
        self.assertEqual(st["status"], "completed")
        self.assertTrue(st["session_reset"])
        self.assertNotEqual(st["session"], old)
        self.assertEqual(self.session(), st["session"])
        self.assertIn("no longer existed", text_of(res))
        self.assertIn("new and empty", text_of(res))
        turn, = self.requests("/run_sse")
        self.assertEqual(turn["json"]["session_id"], st["session"])

    def test_slow_turn_collected_with_job(self):
        self.rb.next_turn("text", delay_ms=1500, text="Slow but done.")
        res = self.call("generate", {"prompt": "make it cinematic",
                                     "wait_seconds": 0})
        st = res["structuredContent"]
        self.assertEqual(st["status"], "running")
        self.assertEqual(st["route"], "agent")
        self.assertIn(st["job"], text_of(res))
        self.assertIn("`job`", text_of(res))
        self.assertGreaterEqual(st["elapsed_ms"], 0)
        # Waiting a little is not enough either; progress says what runs.
        mid = self.ok("job", {"job": st["job"], "wait_seconds": 0})
        self.assertEqual(mid["status"], "running")
        self.assertEqual(mid["tool"], "generate")
        done = self.ok("job", {"job": st["job"], "wait_seconds": 60},
                       progress_token="p1")
        self.assertEqual(done["status"], "completed")
        self.assertIn("Slow but done.", done["reply"])
        self.assertEqual(done["job"], st["job"])
        self.assertEqual(len(self.requests("/run_sse")), 1)
        notes = [n for n in self.mcp.notifications("notifications/progress")
                 if n["params"]["progressToken"] == "p1"]
        self.assertTrue(notes)
        # Asking again returns the same result at once.
        again = self.ok("job", {"job": st["job"], "wait_seconds": 0})
        self.assertEqual(again, done)

    def test_request_id_retry_sends_nothing(self):
        args = {"prompt": "add a title \"Hello\"", "request_id": "req-42",
                "wait_seconds": 30}
        first = self.ok("generate", args)
        self.assertEqual(first["status"], "completed")
        mark = self.seq()
        second = self.ok("generate", args)
        self.assertEqual(second["job"], first["job"])
        self.assertEqual(second["reply"], first["reply"])
        self.assertEqual(self.requests(since=mark), [])
        # The same after a restart of the server.
        other = self.start_server()
        third = self.ok("generate", args, other)
        self.assertEqual(third["job"], first["job"])
        self.assertEqual(self.requests("/run_sse", since=mark), [])
        self.assertEqual(len(self.requests("/run_sse")), 1)

    def test_request_id_retry_while_running(self):
        self.rb.next_turn("text", delay_ms=1000, text="Done at last.")
        args = {"prompt": "add a title", "request_id": "req-slow",
                "wait_seconds": 0}
        first = self.ok("generate", args)
        self.assertEqual(first["status"], "running")
        second = self.ok("generate", dict(args, wait_seconds=60))
        self.assertEqual(second["status"], "completed")
        self.assertEqual(second["job"], first["job"])
        self.assertEqual(len(self.requests("/run_sse")), 1)

    def test_cancel(self):
        self.rb.next_turn("text", delay_ms=20000, text="never")
        st = self.ok("generate", {"prompt": "add music", "wait_seconds": 0})
        res = self.call("job", {"job": st["job"], "cancel": True})
        self.assertFalse(res.get("isError"), text_of(res))
        c = res["structuredContent"]
        self.assertEqual(c["status"], "cancelled")
        self.assertIn("state", c["note"])
        self.assertIn("Cancelled", text_of(res))
        later = self.ok("job", {"job": st["job"], "wait_seconds": 0})
        self.assertEqual(later["status"], "cancelled")
        again = self.ok("job", {"job": st["job"], "cancel": True})
        self.assertEqual(again["status"], "cancelled")


if __name__ == "__main__":
    unittest.main()
