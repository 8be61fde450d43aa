"""Self-tests of the reference backend (stdlib unittest).

    python3 -m unittest discover -s tests/backend -p 'test_*.py' -v
"""

import hashlib
import http.client
import calendar
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refbackend  # noqa: E402
from refbackend import RefBackend, parse_sse, sse_events  # noqa: E402

SESSION_PATH = "/api/tasks/me/with-session/nemo_agent"
# urllib without any proxy from the environment: only 127.0.0.1 is reached
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def uid():
    return str(uuid.uuid4())


class BackendCase(unittest.TestCase):
    rb = None
    shapes = None   # "seeds": the older answer shapes; None: the default

    @classmethod
    def setUpClass(cls):
        cls.rb = RefBackend(seed=7).start()

    @classmethod
    def tearDownClass(cls):
        cls.rb.stop()

    def setUp(self):
        self.rb.reset()
        if self.shapes:
            self.rb.config(shapes=self.shapes)

    # -- helpers -------------------------------------------------------------
    def env(self, resp, status=200, code=0):
        self.assertEqual(resp.status, status, resp.body)
        body = resp.json
        self.assertEqual(body["code"], code, body)
        self.assertIn("msg", body)
        return body["data"]

    def session(self, language="en", credits=None):
        return self.rb.bootstrap(language, credits)

    def turn(self, token, sid, text, **kw):
        return self.rb.run_turn(token, sid, text, **kw)

    def draft(self, token, sid):
        resp = self.rb.api("GET", "/api/state/nemo_agent/me/%s/latest" % sid,
                           token=token)
        return self.env(resp)["state"]["draft"]

    def balance(self, token):
        return self.env(self.rb.api("GET", "/api/credits/balance/simple",
                                    token=token))

    def raw_post(self, path, body, headers, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.rb.port,
                                          timeout=timeout)
        conn.request("POST", path, body=body, headers=headers)
        return conn, conn.getresponse()

    def sse_headers(self, token):
        return dict(refbackend.DEFAULT_ATTRIBUTION,
                    Authorization="Bearer " + token,
                    Accept="text/event-stream",
                    **{"Content-Type": "application/json"})

    def sse_body(self, sid, text):
        return json.dumps({"app_name": "nemo_agent", "user_id": "me",
                           "session_id": sid,
                           "new_message": {"parts": [{"text": text}]}})


class TokenTests(BackendCase):
    def test_anonymous_token(self):
        resp = self.rb.request("POST", "/api/auth/anonymous-token",
                               headers={"X-Client-Id": uid()})
        data = self.env(resp)
        self.assertGreaterEqual(len(data["token"]), 40)
        self.assertEqual(data["credits"], 100)
        self.assertTrue(data["user_id"].startswith("anon_"))
        exp = calendar.timegm(time.strptime(data["expires_at"],
                                            "%Y-%m-%dT%H:%M:%SZ"))
        self.assertAlmostEqual(exp, time.time() + 604800, delta=5)
        self.assertEqual(self.balance(data["token"]),
                         {"available": 100, "frozen": 0, "total": 100})
        # the older shape behind the switch
        self.rb.config(shapes="seeds")
        data = self.env(self.rb.request("POST", "/api/auth/anonymous-token",
                                        headers={"X-Client-Id": uid()}))
        self.assertEqual(data["expires_in"], 604800)
        self.assertAlmostEqual(data["expires_at"], time.time() + 604800,
                               delta=5)
        self.assertNotIn("user_id", data)

    def test_missing_or_invalid_client_id(self):
        for headers in ({}, {"X-Client-Id": ""}, {"X-Client-Id": "a b"}):
            resp = self.rb.request("POST", "/api/auth/anonymous-token",
                                   headers=headers)
            self.env(resp, 400, 400)
            self.assertIn("X-Client-Id", resp.json["msg"])
        # ids other skills write are accepted, unless UUIDs are required
        hdr = {"X-Client-Id": "client-1700000000-12345"}
        self.env(self.rb.request("POST", "/api/auth/anonymous-token",
                                 headers=hdr))
        self.rb.config(client_id_uuid_only=True)
        self.env(self.rb.request("POST", "/api/auth/anonymous-token",
                                 headers={"X-Client-Id": "abc"}), 400, 400)

    def test_rate_limit_one_token_per_client(self):
        cid = uid()
        path = "/api/auth/anonymous-token"
        self.env(self.rb.request("POST", path, headers={"X-Client-Id": cid}))
        resp = self.rb.request("POST", path, headers={"X-Client-Id": cid})
        self.env(resp, 429, 429)
        self.assertEqual(resp.header("Retry-After"), "30")
        self.rb.config(retry_after=2)
        resp = self.rb.request("POST", path, headers={"X-Client-Id": cid})
        self.assertEqual(resp.header("Retry-After"), "2")
        # another client id is independent; its account is separate
        other = self.env(self.rb.request("POST", path,
                                         headers={"X-Client-Id": uid()}))
        self.assertEqual(self.balance(other["token"])["available"], 100)
        self.rb.config(token_rate_limit=False)
        self.env(self.rb.request("POST", path, headers={"X-Client-Id": cid}))

    def test_auth_errors(self):
        path = "/api/credits/balance/simple"
        self.env(self.rb.api("GET", path), 401, 1001)
        resp = self.rb.api("GET", path, headers={"Authorization": "Bearer x"})
        self.env(resp, 200, 1001)
        self.assertEqual(resp.json["msg"], "token expired or invalid")
        token = self.rb.issue_token()
        self.balance(token)
        self.rb.expire_token(token)
        self.env(self.rb.api("GET", path, token=token), 200, 1001)
        t2, t3 = self.rb.issue_token(), self.rb.issue_token()
        self.assertEqual(self.rb.expire_token()["expired"], 3)
        for t in (t2, t3):
            self.env(self.rb.api("GET", path, token=t), 200, 1001)


class SessionStateTests(BackendCase):
    shapes = "seeds"

    def test_create_session_and_state(self):
        token = self.rb.issue_token()
        resp = self.rb.api("POST", SESSION_PATH, {"task_name": "project",
                                                  "language": "zh-CN"}, token)
        data = self.env(resp)
        # the seeds' session shape (this class pins it): bind_id
        for key in ("session_id", "task_id", "bind_id"):
            self.assertTrue(data[key])
        self.assertNotIn("user_id", data)
        sid = data["session_id"]
        self.assertEqual(self.rb.state(sid)["language"], "zh-CN")
        state = self.env(self.rb.api(
            "GET", "/api/state/nemo_agent/me/%s/latest" % sid, token=token))
        self.assertEqual(state["state"], {"draft": {"d": 0, "t": []},
                                          "video_infos": [],
                                          "generated_media": []})
        self.assertEqual(state["user_id"], data["bind_id"])
        # the claim link's token
        claim = self.env(self.rb.api("POST", "/api/auth/claim-token",
                                     {"task_id": data["task_id"],
                                      "session_id": sid}, token))
        self.assertTrue(claim["claim_token"].startswith("clm_"))
        self.assertEqual(claim["expires_in"], 604800)
        self.env(self.rb.api("POST", "/api/auth/claim-token",
                             {"task_id": "task_other", "session_id": sid},
                             token), 400, 400)
        # the documented session shape: user_id
        self.rb.config(shapes="current")
        cur = self.env(self.rb.api("POST", SESSION_PATH,
                                   {"task_name": "project"}, token))
        self.assertTrue(cur["user_id"].startswith("anon_"))
        self.assertNotIn("bind_id", cur)

    def test_session_without_language_and_lost_session(self):
        token = self.rb.issue_token()
        sid = self.env(self.rb.api("POST", SESSION_PATH,
                                   {"task_name": "project"}, token))[
            "session_id"]
        self.assertEqual(self.rb.state(sid)["language"], "en")
        self.rb.lose_session(sid)
        path = "/api/state/nemo_agent/me/%s/latest" % sid
        self.env(self.rb.api("GET", path, token=token), 200, 1002)
        self.env(self.rb.api("GET", "/api/state/nemo_agent/me/nope/latest",
                             token=token), 200, 1002)

    def test_lose_all_sessions(self):
        token, sid = self.session()
        _, sid2 = self.session()
        self.rb.lose_session()
        for s in (sid, sid2):
            resp = self.turn(token, s, "add music")
            self.env(resp, 200, 1002)

    def test_set_state_and_state_control(self):
        token, sid = self.session()
        draft = {"d": 10000, "t": [
            {"tt": 0, "m": {"name": "Video"}, "sg": [
                {"s": 0, "d": 10000, "m": {"label": "city timelapse"}}]},
            {"tt": 3, "m": {"name": "Mystery"}, "sg": []}]}
        self.rb.set_state(sid, draft)
        self.assertEqual(self.draft(token, sid), draft)
        # a new session id is created by set_state
        self.rb.set_state("seeded-1", {"d": 0, "t": []}, language="zh")
        self.assertEqual(self.rb.state("seeded-1")["language"], "zh")
        with self.assertRaises(RuntimeError):
            self.rb.state("unknown")


class TurnTests(BackendCase):
    shapes = "seeds"

    def check_text_turn(self, resp):
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.header("content-type"), "text/event-stream")
        self.assertEqual(resp.header("transfer-encoding"), "chunked")
        items = parse_sse(resp.body)
        self.assertIn(("comment", "heartbeat"), items)
        self.assertIn(("data", ""), items)
        evs = resp.events
        for ev in evs:
            self.assertEqual(ev["author"], "nemo_agent")
            for key in ("id", "invocationId", "timestamp", "content"):
                self.assertIn(key, ev)
        parts = [ev["content"]["parts"][0] for ev in evs]
        calls = [p["functionCall"] for p in parts if "functionCall" in p]
        responses = [p["functionResponse"] for p in parts
                     if "functionResponse" in p]
        self.assertEqual([c["id"] for c in calls],
                         [r["id"] for r in responses])
        partial = [ev["content"]["parts"][0]["text"] for ev in evs
                   if ev.get("partial")]
        self.assertGreaterEqual(len(partial), 2)
        final = evs[-1]
        self.assertTrue(final["turnComplete"])
        self.assertNotIn("partial", final)
        self.assertEqual("".join(partial), final["content"]["parts"][0][
            "text"])
        self.assertEqual(sum(1 for ev in evs if ev.get("turnComplete")), 1)
        return calls

    def test_generation_turn(self):
        token, sid = self.session()
        resp = self.turn(token, sid, "generate a 6-second city timelapse "
                         "video with lo-fi music at 40% and a title "
                         '"Urban Dreams"')
        calls = self.check_text_turn(resp)
        self.assertEqual([c["name"] for c in calls],
                         ["generate_video", "add_bgm", "add_text"])
        self.assertIn("Export button", resp.text)
        self.assertIn("timeline", resp.text)
        draft = self.draft(token, sid)
        self.assertEqual(draft, {"d": 6000, "t": [
            {"tt": 0, "m": {"name": "Video"}, "sg": [{"s": 0, "d": 6000, "m": {
                "label": "city timelapse",
                "src": draft["t"][0]["sg"][0]["m"]["src"]}}]},
            {"tt": 1, "m": {"name": "BGM"}, "sg": [{"s": 0, "d": 6000, "m": {
                "label": "Lo-fi", "volume": 0.4}}]},
            {"tt": 7, "m": {"name": "Title"}, "sg": [{"s": 0, "d": 3000, "m": {
                "text": "Urban Dreams"}}]}]})
        self.assertEqual(self.balance(token),
                         {"available": 90, "frozen": 0, "total": 90})
        state = self.env(self.rb.api(
            "GET", "/api/state/nemo_agent/me/%s/latest" % sid, token=token))
        media = state["state"]["generated_media"]
        self.assertEqual(len(media), 1)
        dl = self.rb.request("GET", media[0]["url"].split(self.rb.url)[1])
        self.assertEqual(dl.status, 200)
        self.assertEqual(dl.body[4:8], b"ftyp")
        log = self.rb.requests("/run_sse")[-1]
        self.assertEqual(log["sse"]["outcome"], "complete")
        self.assertEqual(log["sse"]["text"], resp.text)

    def test_edit_turns_change_draft(self):
        token, sid = self.session()
        self.rb.config(silent_ratio=0)
        self.turn(token, sid, "generate a 10 second beach video")
        self.turn(token, sid, "generate a 5 second sunset clip")
        d = self.draft(token, sid)
        self.assertEqual(d["d"], 15000)
        self.assertEqual([s["s"] for s in d["t"][0]["sg"]], [0, 10000])
        resp = self.turn(token, sid, "add upbeat background music, quiet")
        self.assertEqual(resp.events[0]["content"]["parts"][0][
            "functionCall"]["name"], "add_bgm")
        d = self.draft(token, sid)
        self.assertEqual(d["t"][1]["sg"][0]["m"],
                         {"label": "Upbeat", "volume": 0.2})
        self.assertEqual(d["t"][1]["sg"][0]["d"], 15000)
        self.turn(token, sid, "trim it to 8 seconds")
        d = self.draft(token, sid)
        self.assertEqual(d["d"], 8000)
        self.assertEqual(d["t"][0]["sg"][-1]["d"], 0 + 8000 - 0
                         if len(d["t"][0]["sg"]) == 1 else None)
        self.turn(token, sid, "make it shorter")
        self.assertEqual(self.draft(token, sid)["d"], 6400)
        self.turn(token, sid, "add captions “hello world”")
        d = self.draft(token, sid)
        self.assertEqual(d["t"][-1]["m"]["name"], "Captions")
        self.assertEqual(d["t"][-1]["sg"][0]["m"]["text"], "hello world")
        self.turn(token, sid, "remove the music")
        d = self.draft(token, sid)
        self.assertEqual([t["tt"] for t in d["t"]], [0, 7])
        self.turn(token, sid, "delete the captions")
        self.assertEqual([t["tt"] for t in self.draft(token, sid)["t"]], [0])
        # generation 10+10, edits 2 each (music, trim, shorter, captions,
        # remove x2)
        self.assertEqual(self.balance(token)["available"], 100 - 20 - 12)

    def test_chat_turn_changes_nothing(self):
        token, sid = self.session()
        resp = self.turn(token, sid, "hello there")
        self.assertEqual(len(resp.events), 4)
        self.assertIn("Click the Generate button", resp.text)
        self.assertEqual(self.draft(token, sid), {"d": 0, "t": []})

    def test_chinese_turn(self):
        token, sid = self.session("zh")
        resp = self.turn(token, sid, "generate a city video with music")
        self.assertIn("点击导出按钮下载视频", resp.text)
        self.assertIn("打开时间线面板", resp.text)
        token, sid = self.session("en")
        resp = self.turn(token, sid, "添加字幕「你好」")
        self.assertIn("拖拽片段到轨道上", resp.text)
        self.assertEqual(self.draft(token, sid)["t"][0]["sg"][0]["m"][
            "text"], "你好")
        # raw UTF-8 on the wire, split at odd offsets
        self.assertIn("拖拽".encode("utf-8"), resp.body)

    def test_silent_turn_forced(self):
        token, sid = self.session()
        self.turn(token, sid, "generate a 5 second clip")
        self.rb.next_turn("silent")
        resp = self.turn(token, sid, "add jazz music")
        self.assertEqual(resp.status, 200)
        self.assertTrue(all("text" not in ev["content"]["parts"][0]
                            for ev in resp.events))
        self.assertFalse(any(ev.get("turnComplete") for ev in resp.events))
        self.assertEqual(self.draft(token, sid)["t"][1]["sg"][0]["m"][
            "label"], "Jazz")
        self.assertEqual(self.rb.requests("/run_sse")[-1]["sse"]["outcome"],
                         "silent")

    def test_question_turn_then_answer(self):
        token, sid = self.session()
        resp = self.turn(token, sid, "make a video about cats [ask]")
        self.assertEqual(resp.status, 200)
        (call_ev,) = [ev for ev in resp.events
                      if "functionCall" in ev["content"]["parts"][0]]
        call = call_ev["content"]["parts"][0]["functionCall"]
        self.assertEqual(call["name"], "ask_question")
        self.assertEqual(call_ev["longRunningToolIds"], [call["id"]])
        self.assertEqual(call["args"]["questions"][0]["options"],
                         ["16:9", "9:16", "1:1"])
        self.assertFalse(any("functionResponse" in ev["content"]["parts"][0]
                             for ev in resp.events))
        self.assertTrue(resp.events[-1]["turnComplete"])
        self.assertEqual(self.draft(token, sid)["t"], [])
        # The answer: the asked-about prompt's work is done now.
        self.turn(token, sid, "16:9")
        self.assertEqual(len(self.draft(token, sid)["t"]), 1)
        log = self.rb.requests("/run_sse")
        self.assertEqual(log[0]["sse"]["mode"], "ask")
        self.assertEqual(log[1]["sse"]["answers"],
                         "make a video about cats [ask]")
        # A scripted question with another long-running tool.
        self.rb.next_turn("ask", plain=True, questions=[
            {"id": "x", "prompt": "Bold?", "options": []}])
        resp = self.turn(token, sid, "add a title")
        names = [ev["content"]["parts"][0]["functionCall"]["name"]
                 for ev in resp.events
                 if "functionCall" in ev["content"]["parts"][0]]
        self.assertEqual(names, ["request_user_input"])
        self.assertIn("Bold?", resp.text)

    def test_silent_ratio_is_seeded(self):
        def sequence(seed):
            with RefBackend(seed=seed, config={"turn_ms": 0}) as rb:
                token, sid = rb.bootstrap(credits=1000)
                rb.run_turn(token, sid, "generate a clip")
                out = []
                for i in range(20):
                    r = rb.run_turn(token, sid, "add a title \"t%d\"" % i)
                    out.append(r.text is None)
                return out
        a, b = sequence(3), sequence(3)
        self.assertEqual(a, b)
        self.assertTrue(any(a) and not all(a))
        self.assertNotEqual(a, sequence(4))

    def test_silent_ratio_bounds(self):
        token, sid = self.session(credits=1000)
        self.rb.config(silent_ratio=1.0, turn_ms=0)
        self.assertIsNotNone(self.turn(token, sid, "generate a clip").text)
        self.assertIsNone(self.turn(token, sid, "add music").text)
        self.assertIsNotNone(self.turn(token, sid, "hi").text)  # chat

    def test_next_turn_text_override_and_session_target(self):
        token, sid = self.session()
        _, other = self.session()
        self.rb.next_turn("text", text="Open the Export panel.",
                          session_id=other)
        self.rb.next_turn("text", text="Drag the clip.")
        self.assertEqual(self.turn(token, sid, "add music").text,
                         "Drag the clip.")
        self.assertEqual(self.turn(token, other, "add music").text,
                         "Open the Export panel.")

    def test_error_mode_refunds(self):
        token, sid = self.session()
        self.rb.next_turn("error", error_code="QUOTA", error_message="boom")
        resp = self.turn(token, sid, "generate a video")
        errs = [ev for ev in resp.events if "errorCode" in ev]
        self.assertEqual(len(errs), 1)
        self.assertEqual(errs[0]["errorMessage"], "boom")
        self.assertEqual(self.draft(token, sid), {"d": 0, "t": []})
        self.assertEqual(self.balance(token)["available"], 100)

    def test_slow_mode_heartbeats(self):
        token, sid = self.session()
        self.rb.config(heartbeat_ms=20)
        self.rb.next_turn("slow", delay_ms=300)
        t0 = time.monotonic()
        resp = self.turn(token, sid, "add music")
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        beats = [i for i in parse_sse(resp.body) if i in (
            ("comment", "heartbeat"), ("data", ""))]
        self.assertGreaterEqual(len(beats), 15)

    def test_replay_events_verbatim(self):
        token, sid = self.session()
        raw = ['data: {"author":"nemo_agent","partial":true,"content":'
               '{"parts":[{"text":"Hel"}]}}\r\n\r\n',
               ': heartbeat\n\n',
               'data: {"author":"nemo_agent","content":{"parts":[{"text":'
               '"Hello"}]}}\n\n']
        new = {"d": 1000, "t": [{"tt": 1, "m": {"name": "BGM"}, "sg": []}]}
        self.rb.next_turn(events=raw, draft=new)
        resp = self.turn(token, sid, "add music")
        self.assertEqual(resp.body, "".join(raw).encode())
        self.assertEqual(self.draft(token, sid), new)

    def test_frozen_credits_during_turn(self):
        token, sid = self.session()
        self.rb.next_turn("slow", delay_ms=400)
        t = threading.Thread(target=self.turn, args=(token, sid, "add bgm"))
        t.start()
        self.rb.wait_for_request("/run_sse")
        deadline = time.monotonic() + 5
        while self.balance(token)["frozen"] == 0 and \
                time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(self.balance(token),
                         {"available": 98, "frozen": 2, "total": 100})
        t.join(10)
        self.assertEqual(self.balance(token),
                         {"available": 98, "frozen": 0, "total": 98})

    def test_out_of_credits(self):
        token, sid = self.session(credits=5)
        resp = self.turn(token, sid, "generate a video")
        self.assertIsNone(self.env(resp, 200, 2001))  # documented: no link
        self.rb.config(credits_error_link=True)
        data = self.env(self.turn(token, sid, "generate a video"), 200, 2001)
        bind = self.rb.state(sid)["bind_id"]
        self.assertEqual(data, {"bind_id": bind, "register_url":
                                "https://www.nemovideo.ai/register?bind="
                                + bind})
        self.assertIsNotNone(self.turn(token, sid, "add music").status)
        self.rb.set_credits(0, token=token)
        self.env(self.turn(token, sid, "add music"), 200, 2001)
        self.rb.config(cost_edit=0)
        self.assertEqual(self.turn(token, sid, "add music").status, 200)

    def test_unknown_session_and_bad_body(self):
        token, _ = self.session()
        self.env(self.turn(token, "nope", "hi"), 200, 1002)
        resp = self.rb.api("POST", "/run_sse", {"session_id": "x"}, token)
        self.env(resp, 422, 422)
        self.env(self.rb.api("POST", "/run_sse", {}), 401, 1001)

    def test_split_writes_and_crlf(self):
        token, sid = self.session()
        conn, resp = self.raw_post("/run_sse", self.sse_body(
            sid, "generate a clip"), self.sse_headers(token))
        sizes = []
        while True:  # pieces as they arrive
            piece = resp.read1(65536)
            if not piece:
                break
            sizes.append(len(piece))
        conn.close()
        self.assertGreater(len(sizes), 1)
        self.rb.config(split_writes=False, crlf=False)
        resp = self.turn(token, sid, "add music")
        self.assertNotIn(b"\r", resp.body)
        self.rb.config(split_writes=True, crlf=True)
        resp = self.turn(token, sid, "add music")
        self.assertIn(b"}\r\n\r\n", resp.body)
        self.assertIn(b"}\n\n", resp.body)

    def test_client_disconnect_mid_stream(self):
        token, sid = self.session()
        self.rb.config(heartbeat_ms=10)
        self.rb.next_turn("slow", delay_ms=2000)
        body = self.sse_body(sid, "add music").encode()
        head = ("POST /run_sse HTTP/1.1\r\nHost: x\r\nAuthorization: "
                "Bearer %s\r\nContent-Length: %d\r\n\r\n"
                % (token, len(body))).encode()
        with socket.create_connection(("127.0.0.1", self.rb.port), 10) as s:
            s.sendall(head + body)
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 200"))
        entry = self.rb.wait_for_request("/run_sse", done=True)[-1]
        self.assertEqual(entry["sse"]["outcome"], "client_gone")
        self.assertLess(entry["duration_ms"], 1500)
        self.assertEqual(self.draft(token, sid)["t"][0]["m"]["name"], "BGM")
        self.assertEqual(self.balance(token)["available"], 98)

    def test_http10_client_gets_unchunked_stream(self):
        token, sid = self.session()
        body = self.sse_body(sid, "add music").encode()
        head = ("POST /run_sse HTTP/1.0\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\n"
                "\r\n" % (token, len(body))).encode()
        with socket.create_connection(("127.0.0.1", self.rb.port), 10) as s:
            s.sendall(head + body)
            raw = b"".join(iter(lambda: s.recv(65536), b""))
        headers, _, payload = raw.partition(b"\r\n\r\n")
        self.assertNotIn(b"chunked", headers.lower())
        self.assertTrue(sse_events(payload)[-1]["turnComplete"])

    def test_concurrent_requests_while_streaming(self):
        token, sid = self.session()
        self.rb.next_turn("slow", delay_ms=600)
        done = []
        t = threading.Thread(target=lambda: done.append(
            self.turn(token, sid, "add music")))
        t.start()
        self.rb.wait_for_request("/run_sse")
        t0 = time.monotonic()
        for _ in range(5):
            self.balance(token)
        self.assertLess(time.monotonic() - t0, 0.5)
        self.assertFalse(done)
        t.join(10)
        self.assertIsNotNone(done[0].text)


class UploadTests(BackendCase):
    shapes = "seeds"

    def multipart(self, files, boundary="XyZ-boundary-42", field="files"):
        out = []
        for name, data in files:
            out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\";"
                        " filename=\"%s\"\r\nContent-Type: application/"
                        "octet-stream\r\n\r\n" % (boundary, field, name)
                        ).encode() + data + b"\r\n")
        out.append(("--%s--\r\n" % boundary).encode())
        return b"".join(out), "multipart/form-data; boundary=" + boundary

    def upload(self, token, sid, body, ctype):
        return self.rb.api("POST", "/api/upload-video/nemo_agent/me/" + sid,
                           body, token, headers={"Content-Type": ctype})

    def test_multipart_upload_and_download(self):
        token, sid = self.session()
        with open(os.path.join(refbackend.FIXTURES, "sample.png"),
                  "rb") as fh:
            png = fh.read()
        body, ctype = self.multipart([("city.png", png),
                                      ("clip.MOV", b"\r\n--XyZ" * 100)])
        data = self.env(self.upload(token, sid, body, ctype))
        files = data["files"]
        self.assertEqual([(f["name"], f["size"], f["type"]) for f in files],
                         [("city.png", len(png), "image"),
                          ("clip.MOV", 700, "video")])
        dl = self.rb.request("GET", files[0]["url"].split(self.rb.url)[1])
        self.assertEqual(dl.body, png)
        self.assertEqual(dl.header("content-type"), "image/png")
        log = self.rb.requests("/api/upload-video")[-1]
        self.assertEqual([p["name"] for p in log["parts"]], ["files"] * 2)
        self.assertEqual(log["body_size"], len(body))
        # the next generation uses the upload
        self.turn(token, sid, "animate this image into a 5-second video")
        st = self.rb.state(sid)
        self.assertEqual(st["generated_media"][0]["source_file_id"],
                         files[1]["file_id"])
        self.assertEqual(st["draft"]["t"][0]["sg"][0]["m"]["label"], "clip")

    def test_large_streamed_chunked_upload(self):
        token, sid = self.session()
        boundary = "b0undary"
        head = ('--%s\r\nContent-Disposition: form-data; name="files"; '
                'filename="big.mp4"\r\n\r\n' % boundary).encode()
        tail = ("\r\n--%s--\r\n" % boundary).encode()
        block = bytes(range(256)) * 4096  # 1 MiB
        total = 40
        digest = hashlib.sha256()

        def gen():
            yield head
            for _ in range(total):
                digest.update(block)
                yield block
            yield tail

        conn = http.client.HTTPConnection("127.0.0.1", self.rb.port,
                                          timeout=60)
        conn.request("POST", "/api/upload-video/nemo_agent/me/" + sid,
                     body=gen(), encode_chunked=True, headers={
                         "Authorization": "Bearer " + token,
                         "Content-Type": "multipart/form-data; boundary="
                         + boundary, "Transfer-Encoding": "chunked"})
        resp = conn.getresponse()
        data = json.loads(resp.read())["data"]
        conn.close()
        f = data["files"][0]
        self.assertEqual(f["size"], total * len(block))
        path = os.path.join(self.rb.info()["data_dir"], f["file_id"] +
                            ".mp4")
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for piece in iter(lambda: fh.read(1 << 20), b""):
                h.update(piece)
        self.assertEqual(h.hexdigest(), digest.hexdigest())

    def test_rejections(self):
        token, sid = self.session()
        body, ctype = self.multipart([("notes.txt", b"hi")])
        resp = self.upload(token, sid, body, ctype)
        self.env(resp, 200, 4001)
        for ext in ("mp4", "mov", "webp", "aac", "mkv"):
            self.assertIn(ext, resp.json["msg"])
        self.rb.config(upload_limit_bytes=1000)
        body, ctype = self.multipart([("a.mp4", b"x" * 1001)])
        resp = self.upload(token, sid, body, ctype)
        self.env(resp, 200, 4002)
        self.assertEqual(os.listdir(self.rb.info()["data_dir"]), [])
        body, ctype = self.multipart([("a.mp4", b"x" * 1000)])
        self.env(self.upload(token, sid, body, ctype))
        body, ctype = self.multipart([("a.mp4", b"x")], field="file")
        self.env(self.upload(token, sid, body, ctype), 400, 400)
        self.env(self.upload(token, sid, b"junk", "text/plain"), 400, 400)
        self.env(self.upload(token, "nope", body, ctype), 200, 1002)
        self.env(self.upload("bad", sid, body, ctype), 200, 1001)
        # the connection stays usable after early error replies
        self.env(self.rb.api("GET", "/api/credits/balance/simple",
                             token=token))

    def test_url_upload(self):
        token, sid = self.session()
        urls = ["https://example.com/a/city%20night.mp4?sig=1",
                "https://example.com/watch"]
        data = self.env(self.rb.api(
            "POST", "/api/upload-video/nemo_agent/me/" + sid,
            {"urls": urls, "source_type": "url"}, token))
        self.assertEqual([(f["name"], f["type"], f["url"])
                          for f in data["files"]],
                         [("city night.mp4", "video", urls[0]),
                          ("watch", "video", urls[1])])
        self.assertEqual(self.rb.state(sid)["uploads"][0]["source_type"],
                         "url")
        resp = self.rb.api("POST", "/api/upload-video/nemo_agent/me/" + sid,
                           {"urls": ["https://x/y.exe"]}, token)
        self.env(resp, 200, 4001)


class RenderTests(BackendCase):
    shapes = "seeds"

    DRAFT = {"d": 10000, "t": [{"tt": 0, "m": {"name": "Video"}, "sg": [
        {"d": 10000, "m": {"label": "city"}}]}]}

    def render(self, token, sid, rid="render_1", draft=None, **hdr):
        return self.rb.api("POST", "/api/render/proxy/lambda", {
            "id": rid, "sessionId": sid, "draft": draft or self.DRAFT,
            "output": {"format": "mp4", "quality": "high"}}, token, **hdr)

    def poll(self, token, rid="render_1"):
        return self.rb.api("GET", "/api/render/proxy/lambda/" + rid,
                           token=token)

    def test_render_lifecycle(self):
        token, sid = self.session()
        data = self.env(self.render(token, sid))
        self.assertEqual((data["id"], data["status"]), ("render_1", "queued"))
        seen = [(d["status"], d["progress"]) for d in
                (self.env(self.poll(token)) for _ in range(3))]
        self.assertEqual(seen, [("rendering", 33), ("rendering", 66),
                                ("completed", 100)])
        done = self.env(self.poll(token))
        self.assertEqual(done["status"], "completed")
        url = done["output"]["url"]
        self.assertEqual(url, self.rb.url + "/files/render_1.mp4")
        # idempotent re-post, no credits spent
        self.assertEqual(self.env(self.render(token, sid))["status"],
                         "completed")
        self.assertEqual(self.balance(token)["available"], 100)
        with OPENER.open(url, timeout=10) as r:
            body = r.read()
            self.assertEqual(r.headers["Content-Type"], "video/mp4")
            self.assertEqual(int(r.headers["Content-Length"]), len(body))
        self.assertEqual(body[4:8], b"ftyp")
        self.assertIn(b"avc1", body)

    def test_attribution_required(self):
        token, sid = self.session()
        for missing in refbackend.ATTRIBUTION_HEADERS:
            h = dict(refbackend.DEFAULT_ATTRIBUTION)
            h[missing] = ""
            resp = self.rb.api("POST", "/api/render/proxy/lambda", {
                "id": "r", "sessionId": sid, "draft": self.DRAFT}, token,
                attribution=False, headers=h)
            self.env(resp, 402, 402)
            self.assertIn("plan", resp.json["msg"])
        resp = self.rb.api("POST", "/api/render/proxy/lambda", {
            "id": "r", "sessionId": sid, "draft": self.DRAFT}, token,
            attribution=False)
        self.env(resp, 402, 402)

    def test_render_errors_and_config(self):
        token, sid = self.session()
        self.env(self.poll(token, "missing"), 404, 404)
        self.env(self.render(token, sid, draft={"d": 0, "t": []}), 400, 400)
        self.env(self.render(token, "nope"), 200, 1002)
        self.env(self.render(token, sid, rid="bad id/"), 400, 400)
        self.rb.config(render_steps=[50], fail_next_render="GPU melted")
        self.env(self.render(token, sid, rid="r2"))
        self.assertEqual(self.env(self.poll(token, "r2"))["progress"], 50)
        failed = self.env(self.poll(token, "r2"))
        self.assertEqual((failed["status"], failed["error"]),
                         ("failed", "GPU melted"))
        self.rb.config(render_steps=[])
        self.env(self.render(token, sid, rid="r3"))
        self.assertEqual(self.env(self.poll(token, "r3"))["status"],
                         "completed")

    def test_files(self):
        self.env(self.rb.request("GET", "/files/unknown.mp4"), 404, 404)
        resp = self.rb.request("GET", "/files/sample.mp4",
                               headers={"Range": "bytes=4-11"})
        self.assertEqual(resp.status, 206)
        self.assertEqual(resp.body, b"ftypisom")
        self.assertTrue(resp.header("content-range").startswith("bytes 4-11/"))
        resp = self.rb.request("HEAD", "/files/sample.mp4")
        self.assertEqual(int(resp.header("content-length")),
                         len(self.rb.request("GET", "/files/sample.mp4").body))
        png = self.rb.request("GET", "/files/sample.png")
        self.assertEqual(png.body[:8], b"\x89PNG\r\n\x1a\n")


class CurrentShapeTests(BackendCase):
    """The default answers: the API as NemoVideo's skill v1.9 documents it
    (the classes above pin the older "seeds" shapes)."""
    DRAFT = RenderTests.DRAFT

    def setUp(self):
        super().setUp()
        self.rb.config(shapes="current")

    def poll_bare(self, token, rid):
        resp = self.rb.api("GET", "/api/render/proxy/lambda/" + rid,
                           token=token)
        self.assertEqual(resp.status, 200, resp.body)
        self.assertNotIn("code", resp.json)      # no envelope
        return resp.json

    def test_default_and_switch(self):
        self.assertEqual(refbackend.DEFAULT_CONFIG["shapes"],
                         os.environ.get("REFBACKEND_SHAPES") or "current")
        resp = self.rb.request("POST", "/_control/config",
                               {"shapes": "v2"})
        self.assertEqual(resp.status, 400)
        self.assertEqual(self.rb.config(shapes="seeds")["shapes"], "seeds")

    def test_render_start_names_id_and_poll_is_bare(self):
        token, sid = self.session()
        self.rb.config(render_steps=[40])
        data = self.env(self.rb.api("POST", "/api/render/proxy/lambda", {
            "id": "render_9", "sessionId": sid, "draft": self.DRAFT,
            "output": {"format": "mp4", "quality": "high"}}, token))
        rid = data["render_id"]
        self.assertNotEqual(rid, "render_9")
        self.assertEqual(data["status"], "pending")
        seen = [(d["status"], d["progress"]) for d in
                (self.poll_bare(token, rid) for _ in range(2))]
        self.assertEqual(seen, [("processing", 40), ("completed", 100)])
        # the id sent finds the same render
        done = self.poll_bare(token, "render_9")
        self.assertEqual(done["output"]["url"],
                         self.rb.url + "/files/render_9.mp4")
        # the documented fallback download, with auth only
        path = "/api/render/proxy/%s/download" % rid
        dl = self.rb.api("GET", path, token=token)
        self.assertEqual(dl.status, 200)
        self.assertEqual(dl.body[4:8], b"ftyp")
        self.assertNotEqual(self.rb.request("GET", path).status, 200)
        self.env(self.rb.api("GET", "/api/render/proxy/nope/download",
                             token=token), 404, 404)

    def test_render_without_url(self):
        token, sid = self.session()
        self.rb.config(render_steps=[], render_url=False)
        self.env(self.rb.api("POST", "/api/render/proxy/lambda", {
            "id": "r5", "sessionId": sid, "draft": self.DRAFT}, token))
        done = self.poll_bare(token, "r5")
        self.assertEqual(done["status"], "completed")
        self.assertNotIn("url", done["output"])
        self.assertEqual(done["output"]["size"],
                         len(self.rb.request("GET", "/files/sample.mp4").body))

    def test_upload_answer_files(self):
        token, sid = self.session()
        up = UploadTests.multipart(self, [("clip.mp4", b"x" * 50),
                                          ("song.mp3", b"y" * 10)])
        data = self.env(self.rb.api(
            "POST", "/api/upload-video/nemo_agent/me/" + sid, up[0], token,
            headers={"Content-Type": up[1]}))
        self.assertIs(data["session_state_applied"], True)
        video, audio = data["files"]
        self.assertEqual((video["filename"], video["file_type"],
                          video["width"], video["height"]),
                         ("clip.mp4", "video", 1920, 1080))
        self.assertTrue(video["cdn_url"].startswith(self.rb.url + "/files/"))
        self.assertEqual((audio["file_type"], audio["duration"]),
                         ("audio", 30.5))
        self.assertNotIn("width", audio)
        data = self.env(self.rb.api(
            "POST", "/api/upload-video/nemo_agent/me/" + sid,
            {"urls": ["https://example.com/a/pic.png"],
             "source_type": "url"}, token))
        self.assertEqual(data["files"][0]["cdn_url"],
                         "https://example.com/a/pic.png")

    def test_state_has_canvas(self):
        token, sid = self.session()
        state = self.env(self.rb.api(
            "GET", "/api/state/nemo_agent/me/%s/latest" % sid,
            token=token))["state"]
        self.assertEqual(state["canvas_config"], refbackend.DEFAULT_CANVAS)
        self.rb.set_state(sid, canvas_config={"ratio": "9:16"})
        state = self.env(self.rb.api(
            "GET", "/api/state/nemo_agent/me/%s/latest" % sid,
            token=token))["state"]
        self.assertEqual(state["canvas_config"], {"ratio": "9:16"})

    def test_trailing_temporary_issue(self):
        for lang, prompt in (("en", "add lo-fi music"), ("zh", "添加音乐")):
            token, sid = self.session(lang)
            self.rb.next_turn(temporary_issue=True)
            resp = self.turn(token, sid, prompt)
            texts = [e["content"]["parts"][0]["text"] for e in resp.events
                     if "content" in e and not e.get("partial") and
                     "text" in e["content"]["parts"][0]]
            self.assertEqual(len(texts), 2, texts)
            self.assertEqual(texts[1], refbackend.TEMPORARY_ISSUE[lang])
            self.assertNotIn("temporary", texts[0])
            self.assertTrue(resp.events[-1]["turnComplete"])
            log = self.rb.requests("/run_sse")[-1]["sse"]
            self.assertTrue(log["temporary_issue"])
            self.assertEqual(log["outcome"], "complete")

    def test_temporary_issue_is_seeded_and_sometimes(self):
        token, sid = self.session()
        self.rb.set_credits(10000)
        seen = []
        for _ in range(12):
            self.turn(token, sid, "add a title")
            seen.append(self.rb.requests("/run_sse")[-1]["sse"][
                "temporary_issue"])
        self.assertIn(True, seen)
        self.assertIn(False, seen)
        self.rb.config(shapes="seeds")
        self.turn(token, sid, "add a title")
        self.assertFalse(self.rb.requests("/run_sse")[-1]["sse"][
            "temporary_issue"])

    def test_heartbeats_only_turn(self):
        token, sid = self.session()
        self.rb.config(heartbeat_ms=10)
        self.rb.next_turn("heartbeats", delay_ms=150)
        resp = self.turn(token, sid, "add music")
        items = parse_sse(resp.body)
        self.assertEqual(resp.events, [])
        self.assertGreaterEqual(len(items), 5)
        self.assertTrue(all(i in (("comment", "heartbeat"), ("data", ""))
                            for i in items), items)
        # the agent worked on unseen: the music is there
        self.assertEqual(self.draft(token, sid)["t"][0]["tt"], 1)


class FaultTests(BackendCase):
    def test_status_and_count(self):
        token = self.rb.issue_token()
        self.rb.fault("/api/credits", "status", status=503, count=2)
        path = "/api/credits/balance/simple"
        self.env(self.rb.api("GET", path, token=token), 503, 503)
        self.env(self.rb.api("GET", path, token=token), 503, 503)
        self.env(self.rb.api("GET", path, token=token))
        self.rb.fault("/api/credits", "status", status=502, body="<html>bad"
                      " gateway</html>")
        resp = self.rb.api("GET", path, token=token)
        self.assertEqual(resp.status, 502)
        self.assertEqual(resp.body, b"<html>bad gateway</html>")

    def test_code_method_and_clear(self):
        token, sid = self.session()
        self.rb.fault("/api/state", "code", code=1002, method="POST")
        path = "/api/state/nemo_agent/me/%s/latest" % sid
        self.env(self.rb.api("GET", path, token=token))  # method differs
        self.rb.clear_faults()
        self.assertEqual(self.rb.control("faults")["faults"], [])
        self.rb.fault("/api/state", "code", code=1001, count=0)  # unlimited
        for _ in range(3):
            self.env(self.rb.api("GET", path, token=token), 200, 1001)
        self.rb.clear_faults()
        self.rb.fault("/run_sse", "code", code=2001)
        self.assertIsNone(self.env(self.turn(token, sid, "hi"), 200, 2001))
        self.rb.config(credits_error_link=True)
        self.rb.fault("/run_sse", "code", code=2001)
        data = self.env(self.turn(token, sid, "hi"), 200, 2001)
        self.assertIn("register_url", data)
        self.assertEqual(self.rb.requests("/run_sse")[-1]["fault"], "code")

    def test_rate_limit_fault(self):
        self.rb.fault("/api/tasks", "rate_limit", retry_after=7)
        token = self.rb.issue_token()
        resp = self.rb.api("POST", SESSION_PATH, {"task_name": "project"},
                           token)
        self.env(resp, 429, 429)
        self.assertEqual(resp.header("retry-after"), "7")

    def test_drop_sse(self):
        token, sid = self.session()
        self.rb.fault("/run_sse", "drop", after=2)
        conn, resp = self.raw_post("/run_sse", self.sse_body(
            sid, "add music"), self.sse_headers(token))
        with self.assertRaises(http.client.IncompleteRead) as cm:
            resp.read()
        conn.close()
        self.assertEqual(len(sse_events(cm.exception.partial)), 2)
        self.assertEqual(self.rb.requests("/run_sse")[-1]["sse"]["outcome"],
                         "dropped")
        # the backend finished its work anyway
        self.assertEqual(self.draft(token, sid)["t"][0]["tt"], 1)

    def test_drop_download(self):
        self.rb.fault("/files/", "drop", after=100)
        conn = http.client.HTTPConnection("127.0.0.1", self.rb.port,
                                          timeout=10)
        conn.request("GET", "/files/sample.mp4")
        resp = conn.getresponse()
        full = int(resp.getheader("Content-Length"))
        self.assertGreater(full, 100)
        with self.assertRaises(http.client.IncompleteRead) as cm:
            resp.read()
        self.assertEqual(len(cm.exception.partial), 100)
        conn.close()

    def test_drop_plain_request(self):
        token = self.rb.issue_token()
        self.rb.fault("/api/credits", "drop")
        with self.assertRaises((http.client.RemoteDisconnected,
                                ConnectionResetError)):
            self.rb.api("GET", "/api/credits/balance/simple", token=token)
        self.balance(token)

    def test_slow(self):
        token, sid = self.session()
        self.rb.fault("/api/credits", "slow", delay_ms=200)
        t0 = time.monotonic()
        self.balance(token)
        self.assertGreaterEqual(time.monotonic() - t0, 0.2)
        self.rb.fault("/run_sse", "slow", delay_ms=30)
        self.rb.config(turn_ms=0)
        t0 = time.monotonic()
        resp = self.turn(token, sid, "add music")
        self.assertGreaterEqual(time.monotonic() - t0, 30e-3 * len(
            resp.events))
        self.rb.fault("/files/", "slow", delay_ms=20)
        t0 = time.monotonic()
        self.rb.request("GET", "/files/sample.mp4")
        self.assertGreaterEqual(time.monotonic() - t0, 0.04)

    def test_error_event(self):
        token, sid = self.session()
        self.rb.fault("/run_sse", "error_event", after=1,
                      error_code="RESOURCE_EXHAUSTED",
                      error_message="overloaded")
        resp = self.turn(token, sid, "add music")
        self.assertEqual(len(resp.events), 2)
        self.assertEqual(resp.events[1]["errorCode"], "RESOURCE_EXHAUSTED")
        self.assertEqual(self.balance(token)["available"], 100)
        self.assertEqual(self.rb.requests("/run_sse")[-1]["sse"]["outcome"],
                         "error")

    def test_error_event_after_last_event(self):
        token, sid = self.session()
        self.rb.fault("/run_sse", "error_event", after=99)
        resp = self.turn(token, sid, "add music")
        self.assertIn("errorCode", resp.events[-1])
        self.assertTrue(resp.events[-2]["turnComplete"])

    def test_malformed_requests(self):
        token, sid = self.session()
        path = "/api/upload-video/nemo_agent/me/" + sid
        bad = b"--b\r\nContent-Disposition: form-data; name=files; " \
              b"filename=a.mp4\r\n\r\nunterminated"
        resp = self.rb.api("POST", path, bad, token, headers={
            "Content-Type": "multipart/form-data; boundary=b"})
        self.env(resp, 400, 400)
        self.assertIn("multipart", resp.json["msg"])
        with socket.create_connection(("127.0.0.1", self.rb.port), 10) as s:
            s.sendall(b"POST /run_sse HTTP/1.1\r\nContent-Length: x\r\n\r\n")
            raw = b"".join(iter(lambda: s.recv(65536), b""))
        self.assertTrue(raw.startswith(b"HTTP/1.1 400"))
        self.balance(token)

    def test_hang_client_gives_up_then_reset(self):
        token = self.rb.issue_token()
        self.rb.fault("/api/credits", "hang")
        t0 = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.rb.port,
                                          timeout=0.3)
        with self.assertRaises(socket.timeout):
            conn.request("GET", "/api/credits/balance/simple",
                         headers={"Authorization": "Bearer " + token})
            conn.getresponse()
        conn.close()
        self.assertLess(time.monotonic() - t0, 2)
        self.balance(token)
        # a hang released by a reset
        self.rb.fault("/api/credits", "hang")
        since = self.rb.requests()[-1]["seq"]
        errors = []

        def call():
            try:
                self.rb.api("GET", "/api/credits/balance/simple",
                            token=token)
            except Exception as e:
                errors.append(e)
        t = threading.Thread(target=call)
        t.start()
        entry = self.rb.wait_for_request("/api/credits", since=since)[-1]
        self.assertFalse(entry["done"])
        self.rb.clear_faults()
        t.join(5)
        self.assertFalse(t.is_alive())
        self.assertEqual(len(errors), 1)


class ControlTests(BackendCase):
    def test_request_log(self):
        token = self.rb.issue_token()
        self.rb.api("POST", SESSION_PATH + "?x=1&y=", {"task_name": "project",
                                                       "language": "fr"},
                    token, headers={"X-Custom-Case": "KeepMe"})
        log = self.rb.requests()
        self.assertEqual(len(log), 1)
        e = log[0]
        self.assertEqual((e["method"], e["path"], e["raw_query"]),
                         ("POST", SESSION_PATH, "x=1&y="))
        self.assertEqual(e["query"], {"x": ["1"], "y": [""]})
        self.assertIn(["X-Custom-Case", "KeepMe"], e["headers"])
        self.assertEqual(e["headers_lower"]["x-skill-platform"], "unknown")
        self.assertEqual(e["json"], {"task_name": "project",
                                     "language": "fr"})
        self.assertEqual((e["status"], e["code"], e["done"]), (200, 0, True))
        self.assertEqual(self.rb.requests(since=e["seq"]), [])
        self.rb.clear_requests()
        self.assertEqual(self.rb.requests(), [])

    def test_config_validation_and_get(self):
        cfg = self.rb.control("config")["config"]
        self.assertEqual(cfg["cost_generate"], 10)
        self.assertEqual(self.rb.config(upload_limit_mb=2)[
            "upload_limit_bytes"], 2 * 1024 * 1024)
        with self.assertRaises(RuntimeError):
            self.rb.config(nope=1)
        with self.assertRaises(RuntimeError):
            self.rb.fault("/x", "explode")
        with self.assertRaises(RuntimeError):
            self.rb.next_turn("loud")

    def test_credits_control(self):
        t1, t2 = self.rb.issue_token(), self.rb.issue_token(credits=5)
        self.assertEqual(self.balance(t2)["available"], 5)
        self.rb.set_credits(42)
        self.assertEqual(self.balance(t1)["available"], 42)
        self.rb.set_credits(7, token=t2, frozen=3)
        self.assertEqual(self.balance(t2), {"available": 7, "frozen": 3,
                                            "total": 10})

    def test_reset(self):
        token, sid = self.session()
        self.rb.fault("/api", "status", status=500, count=0)
        self.rb.next_turn("silent")
        self.rb.config(cost_edit=50)
        self.rb.reset()
        info = self.rb.info()
        self.assertEqual((info["sessions"], info["tokens"],
                          info["queued_turns"]), ([], 0, 0))
        self.assertEqual(self.rb.control("faults")["faults"], [])
        self.assertEqual(self.rb.control("config")["config"]["cost_edit"], 2)
        self.env(self.rb.api("GET", "/api/credits/balance/simple",
                             token=token), 200, 1001)

    def test_unknown_route(self):
        self.env(self.rb.request("GET", "/nope"), 404, 404)
        self.env(self.rb.request("GET", "/run_sse"), 405, 405)
        bad = self.rb.request("POST", "/_control/fault", b"{not json",
                              {"Content-Type": "application/json"})
        self.env(bad, 400, 400)


class ProcessTests(unittest.TestCase):
    def test_cli_ready_line_and_sigterm(self):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "refbackend.py")
        proc = subprocess.Popen([sys.executable, script, "--port", "0",
                                 "--seed", "5"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            self.assertRegex(line, r"^READY http://127\.0\.0\.1:\d+\n$")
            url = line.split()[1]
            with OPENER.open(url + "/_control/info", timeout=10) as r:
                info = json.loads(r.read())["data"]
            self.assertTrue(os.path.isdir(info["data_dir"]))
            self.assertEqual(info["seed"], 5)
            req = urllib.request.Request(
                url + "/api/auth/anonymous-token", method="POST",
                headers={"X-Client-Id": uid()})
            with OPENER.open(req, timeout=10) as r:
                self.assertEqual(json.loads(r.read())["code"], 0)
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(10), 0)
            self.assertEqual(proc.stdout.read(), "")
            self.assertEqual(proc.stderr.read(), "")
            self.assertFalse(os.path.exists(info["data_dir"]))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()

    def test_http_error_status_with_urllib(self):
        with RefBackend(subprocess=True) as rb:
            with self.assertRaises(urllib.error.HTTPError) as cm:
                OPENER.open(urllib.request.Request(
                    rb.url + "/api/auth/anonymous-token", method="POST"),
                    timeout=10)
            self.assertEqual(cm.exception.code, 400)
            self.assertEqual(json.loads(cm.exception.read())["code"], 400)
            cm.exception.close()

    def test_start_backend_helper_process_mode_and_data_dir(self):
        with tempfile.TemporaryDirectory() as d:
            rb, url = refbackend.start_backend(subprocess=True, data_dir=d,
                                               seed=9)
            try:
                self.assertTrue(url.startswith("http://127.0.0.1:"))
                token, sid = rb.bootstrap()
                self.assertIsNotNone(rb.run_turn(token, sid,
                                                 "generate a clip").text)
                self.assertEqual(rb.info()["data_dir"], d)
            finally:
                rb.stop()
            self.assertTrue(os.path.isdir(d))  # a given dir is kept


if __name__ == "__main__":
    unittest.main()
