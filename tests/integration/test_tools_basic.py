"""credits, session, state and job (listing, unknown handles) against the
reference backend, through the real binary over MCP stdio."""
import os
import unittest

from mcpclient import text_of
from tools_fixture import SEED_DRAFT, ToolsCase


class Credits(ToolsCase):
    def test_balance(self):
        self.rb.set_credits(90, token=self.token, frozen=0)
        st = self.ok("credits")
        self.assertEqual(st, {"available": 90, "frozen": 0, "total": 90})
        res = self.call("credits")
        self.assertEqual(text_of(res),
                         "You have 90 credits available (0 frozen, 90 "
                         "total).")
        self.assert_no_token_in_output()

    @unittest.skipUnless(os.path.exists("/proc/self/maps"), "needs /proc")
    def test_libcurl_is_loaded_by_the_first_backend_call(self):
        # Start-up and tools/list never need libcurl (it costs ~6 MB and
        # several ms to map); the first call that talks to the backend
        # loads it.
        def mapped():
            with open("/proc/%d/maps" % self.mcp.proc.pid) as fh:
                return "libcurl" in fh.read()
        self.assertIn("tools", self.mcp.request("tools/list")["result"])
        self.assertFalse(mapped())
        self.ok("credits")
        self.assertTrue(mapped())

    def test_frozen_credits(self):
        self.rb.set_credits(60, token=self.token, frozen=40)
        st = self.ok("credits")
        self.assertEqual((st["available"], st["frozen"], st["total"]),
                         (60, 40, 100))

    def test_backend_error_is_a_tool_error_with_advice(self):
        self.rb.fault("/api/credits", "status", status=503, count=10)
        text = self.fails("credits")
        self.assertTrue(text.strip())
        self.assertNotIn(self.token, text)


class Session(ToolsCase):
    def test_current_is_stable_and_new_becomes_current(self):
        first = self.ok("session", {"action": "current"})
        self.assertTrue(first["session"])
        self.assertEqual(first["language"], "en")
        again = self.ok("session", {"action": "current"})
        self.assertEqual(again["session"], first["session"])
        self.assertFalse(again["created"])
        new = self.ok("session", {"action": "new", "language": "zh"})
        self.assertTrue(new["created"])
        self.assertEqual(new["language"], "zh")
        self.assertNotEqual(new["session"], first["session"])
        self.assertEqual(self.session(), new["session"])
        body = self.requests("/api/tasks/me/with-session")[-1]["json"]
        self.assertEqual(body["language"], "zh")
        # A restarted server continues in the same session.
        other = self.start_server()
        self.assertEqual(self.session(other), new["session"])


class State(ToolsCase):
    def test_seed_timeline(self):
        sid = self.session()
        self.rb.set_state(sid, draft=SEED_DRAFT, generated_media=[
            {"media_id": "gen_1", "type": "video", "url": "http://x/1.mp4"}])
        st = self.ok("state")
        self.assertEqual(st["session"], sid)
        self.assertEqual(st["duration_ms"], 10000)
        self.assertEqual([t["type"] for t in st["tracks"]],
                         ["video", "audio", "text"])
        bgm = st["tracks"][1]["segments"][0]
        self.assertEqual((bgm["label"], bgm["start_ms"], bgm["end_ms"],
                          bgm["volume"]), ("Lo-fi", 0, 10000, 35))
        self.assertNotIn("volume", st["tracks"][0]["segments"][0])
        self.assertEqual(
            st["summary"],
            'Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: '
            'Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)')
        self.assertEqual(st["generated_media"][0]["media_id"], "gen_1")
        text = text_of(self.call("state"))
        self.assertIn(st["summary"], text)
        self.assertIn("Generated media (1)", text)

    def test_explicit_session_and_odd_drafts(self):
        sid = self.session()
        other = self.ok("session", {"action": "new"})["session"]
        self.rb.set_state(sid, draft={"d": "x", "t": [
            {"tt": 42, "sg": [{"d": 1000}]}, "junk", {"tt": 0, "sg": 5}]})
        st = self.ok("state", {"session": sid})
        self.assertEqual(st["session"], sid)
        self.assertIn("other", [t["type"] for t in st["tracks"]])
        self.assertTrue(st["summary"].startswith("Timeline"))
        empty = self.ok("state", {"session": other})
        self.assertEqual(empty["tracks"], [])
        self.assertEqual(empty["summary"], "Timeline is empty.")

    def test_lost_session_is_reset_and_said(self):
        sid = self.session()
        self.rb.lose_session(sid)
        res = self.call("state")
        self.assertFalse(res.get("isError"), text_of(res))
        st = res["structuredContent"]
        self.assertNotEqual(st["session"], sid)
        self.assertTrue(st["session_reset"])
        self.assertIn("new and empty", text_of(res))
        self.assertEqual(self.session(), st["session"])


class Jobs(ToolsCase):
    def test_empty_list_and_unknown_handle(self):
        st = self.ok("job")
        self.assertEqual(st["jobs"], [])
        text = self.fails("job", {"job": "job_0123456789abcdef"})
        self.assertIn("job_0123456789abcdef", text)
        self.assertIn("list", text)

    def test_list_after_a_turn(self):
        done = self.ok("generate", {"prompt": "add a title \"Hi\"",
                                    "wait_seconds": 30})
        self.assertEqual(done["status"], "completed")
        st = self.ok("job")
        self.assertEqual(st["session"], self.session())
        self.assertEqual(st["jobs"][0]["job"], done["job"])
        self.assertEqual(st["jobs"][0]["tool"], "generate")
        self.assertEqual(st["jobs"][0]["status"], "completed")
        self.assertIn(done["job"], text_of(self.call("job")))


if __name__ == "__main__":
    unittest.main()
