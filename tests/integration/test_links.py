"""Links and identity as NemoVideo documents them today: the claim link
("open the project in the browser") on `session` and every completed
`export`, cached per session and never fatal; NEMO_WEB_URL; a blank bundle
placeholder in NEMO_TOKEN; nemo-mcp's own state dir, refused when others
can write to it; backend text escaped on stderr."""
import os
import re
import subprocess
import unittest

from mcpclient import BIN, McpProcess, text_of
from tools_fixture import SEED_DRAFT, ToolsCase

CLAIM = "/api/auth/claim-token"


class ClaimLink(ToolsCase):
    def test_session_carries_claim_link_cached_per_session(self):
        st = self.ok("session", {"action": "current"})
        url = st["claim_url"]
        self.assertRegex(url, r"^https://nemovideo\.com/workspace/claim\?"
                              r"ct=clm_[0-9a-f]+$")
        res = self.call("session", {"action": "current"})
        self.assertIn("Open the project in the browser", text_of(res))
        self.assertIn(url, text_of(res))
        self.assertEqual(res["structuredContent"]["claim_url"], url)
        # asked once for this session: the second call used the cache
        claims = self.requests(CLAIM)
        self.assertEqual(len(claims), 1)
        self.assertEqual(claims[0]["json"]["session_id"], st["session"])
        self.assertEqual(claims[0]["json"]["task_id"],
                         self.rb.state(st["session"])["task_id"])
        # a new session gets its own link
        new = self.ok("session", {"action": "new"})
        self.assertNotEqual(new["claim_url"], url)
        self.assertEqual(len(self.requests(CLAIM)), 2)
        # never the API token in a URL
        self.assertNotIn(self.token, url + new["claim_url"])
        self.assert_no_token_in_output()

    def test_completed_export_carries_claim_link(self):
        sid = self.session()
        self.rb.set_state(sid, draft=SEED_DRAFT)
        res = self.call("export", {"wait_seconds": 30})
        self.assertFalse(res.get("isError"), text_of(res))
        st = res["structuredContent"]
        self.assertEqual(st["status"], "completed")
        self.assertTrue(st["claim_url"].startswith(
            "https://nemovideo.com/workspace/claim?ct=clm_"))
        self.assertIn("Open the project in the browser", text_of(res))
        self.assertIn(st["claim_url"], text_of(res))

    def test_export_through_generate_carries_claim_link(self):
        self.rb.set_state(self.session(), draft=SEED_DRAFT)
        res = self.call("generate", {"prompt": "export the video",
                                     "wait_seconds": 30})
        st = res["structuredContent"]
        self.assertEqual(st["route"], "export")
        self.assertTrue(st["claim_url"].startswith(
            "https://nemovideo.com/workspace/claim?ct=clm_"))
        self.assertIn(st["claim_url"], text_of(res))

    def test_session_by_id_gets_its_link_when_its_task_is_known(self):
        # A session nemo-mcp started, no longer current (even after a
        # restart), still has its task id: its export carries the link.
        old = self.session()
        self.rb.set_state(old, draft=SEED_DRAFT)
        self.ok("session", {"action": "new"})
        self.mcp = self.start_server()
        ex = self.ok("export", {"session": old, "wait_seconds": 30})
        self.assertTrue(ex["claim_url"].startswith(
            "https://nemovideo.com/workspace/claim?ct=clm_"))
        claim = self.requests(CLAIM)[-1]["json"]
        self.assertEqual(claim, {"session_id": old,
                                 "task_id": self.rb.state(old)["task_id"]})
        # One started elsewhere: its task id cannot be had (the state
        # answer has none), so the text says why there is no link.
        resp = self.rb.api("POST", "/api/tasks/me/with-session/nemo_agent",
                           {"task_name": "project", "language": "en"},
                           self.token)
        other = resp.json["data"]["session_id"]
        self.rb.set_state(other, draft=SEED_DRAFT)
        res = self.call("export", {"session": other, "wait_seconds": 30})
        self.assertEqual(res["structuredContent"]["status"], "completed")
        self.assertNotIn("claim_url", res["structuredContent"])
        self.assertIn("available for the current session only",
                      text_of(res))

    def test_render_refused_for_the_account_offers_the_claim_link(self):
        # Anonymous tokens may not render at all (no render scope) and a
        # free plan may not export: the claim link is then the way to the
        # video, so the error offers it.
        self.rb.set_state(self.session(), draft=SEED_DRAFT)
        for status in (402, 403):
            self.rb.fault("/api/render/proxy/lambda", "status",
                          status=status, method="POST", count=0)
            text = self.fails("export", {"wait_seconds": 30})
            self.assertIn(str(status), text)
            self.assertIn("Open the project in the browser", text)
            self.assertRegex(text, r"https://nemovideo\.com/workspace/"
                                   r"claim\?ct=clm_[0-9a-f]+")
            self.rb.clear_faults()
        # any other failure: no link
        self.rb.config(fail_next_render="GPU node lost")
        self.assertNotIn("Open the project",
                         self.fails("export", {"wait_seconds": 30}))

    def test_failed_claim_request_never_fails_the_tool(self):
        self.rb.fault(CLAIM, "status", status=500, count=0)
        st = self.ok("session", {"action": "current"})
        self.assertNotIn("claim_url", st)
        self.rb.set_state(st["session"], draft=SEED_DRAFT)
        ex = self.ok("export", {"wait_seconds": 30})
        self.assertEqual(ex["status"], "completed")
        self.assertNotIn("claim_url", ex)
        self.assertGreaterEqual(len(self.requests(CLAIM)), 2)
        # once the backend answers again, the link appears
        self.rb.clear_faults()
        self.assertIn("claim_url", self.ok("session", {"action": "current"}))

    def test_web_url_is_configurable_and_checked(self):
        self.mcp = self.start_server({"NEMO_WEB_URL": "http://127.0.0.1:9/"})
        st = self.ok("session", {"action": "current"})
        self.assertTrue(st["claim_url"].startswith(
            "http://127.0.0.1:9/workspace/claim?ct=clm_"))


class Identity(ToolsCase):
    def test_placeholder_token_is_unset_with_a_warning(self):
        # What bundle hosts pass for a blank optional user_config field.
        self.mcp = self.start_server(
            {"NEMO_TOKEN": "${user_config.nemo_token}"})
        st = self.ok("credits")
        self.assertEqual(st["available"], 100)      # a new anonymous token
        self.assertEqual(len(self.requests("/api/auth/anonymous-token")), 1)
        auth = [r["headers_lower"].get("authorization", "")
                for r in self.requests("/api/credits")]
        self.assertTrue(auth and all("${" not in a for a in auth), auth)
        self.assertIn("NEMO_TOKEN is an unexpanded placeholder",
                      self.mcp.stderr())

    def test_state_dir_holds_state_and_config_dir_only_the_client_id(self):
        self.mcp = self.start_server({"NEMO_TOKEN": None})
        sid = self.session()
        self.rb.set_state(sid, draft=SEED_DRAFT)
        self.ok("export", {"wait_seconds": 30})
        self.assertEqual(sorted(os.listdir(self.config_dir)), ["client_id"])
        names = os.listdir(self.state_dir)
        self.assertTrue([n for n in names if n.startswith("token")], names)
        self.assertIn("session.json", names)
        self.assertTrue(os.listdir(os.path.join(self.state_dir, "jobs")))
        self.assertEqual(os.stat(self.state_dir).st_mode & 0o777, 0o700)

    def test_state_dir_others_can_write_is_not_trusted(self):
        # A job journalled in a safe dir ...
        sid = self.session()
        self.rb.set_state(sid, draft=SEED_DRAFT)
        self.ok("export", {"wait_seconds": 30})
        self.assertTrue(self.ok("job")["jobs"])
        # ... is not read once the dir is writable by others: a record (or
        # token) planted there must not be obeyed.
        os.chmod(self.state_dir, 0o777)
        self.addCleanup(os.chmod, self.state_dir, 0o700)
        mcp = self.start_server()
        self.assertEqual(self.ok("job", mcp=mcp)["jobs"], [])
        err = mcp.stderr()
        self.assertIn("not using the state dir", err)
        self.assertIn("writable by everyone", err)
        # ... and the server still works, without saving: jobs run
        # unjournalled, nothing new lands in the refused dir.
        before = sorted(os.listdir(os.path.join(self.state_dir, "jobs")))
        self.assertEqual(self.ok("export", {"session": sid,
                                            "wait_seconds": 30},
                                 mcp=mcp)["status"], "completed")
        self.assertEqual(self.ok("generate", {"prompt": "add music",
                                              "session": sid,
                                              "wait_seconds": 30},
                                 mcp=mcp)["status"], "completed")
        self.assertEqual(sorted(os.listdir(os.path.join(self.state_dir,
                                                        "jobs"))), before)

    def test_refused_shared_dir_keeps_our_own_client_id(self):
        # Another skill made the shared dir 0775 (umask 0002): nemo-mcp
        # neither reads nor writes it, and keeps its own id in the state
        # dir, so a restart sends the same id.
        os.chmod(self.config_dir, 0o775)
        self.addCleanup(os.chmod, self.config_dir, 0o700)
        self.rb.config(token_rate_limit=False)
        for _ in range(2):
            mcp = self.start_server({"NEMO_TOKEN": None})
            self.ok("credits", mcp=mcp)
            mcp.close_stdin()
            mcp.wait_exit(10)
            for n in os.listdir(self.state_dir):
                if n.startswith("token"):
                    os.unlink(os.path.join(self.state_dir, n))
        ids = [r["headers_lower"]["x-client-id"]
               for r in self.requests("/api/auth/anonymous-token")]
        self.assertEqual(len(ids), 2)
        self.assertEqual(ids[0], ids[1])
        self.assertEqual(os.listdir(self.config_dir), [])
        self.assertIn("client_id_fallback.json", os.listdir(self.state_dir))
        doc = subprocess.run([BIN, "doctor"], capture_output=True, text=True,
                             timeout=30, env=mcp.env).stdout
        self.assertIn("config dir: not used: %s is writable by its group "
                      "(mode 0775); fix: chmod go-w %s"
                      % (self.config_dir, self.config_dir), doc)
        self.assertIn("client id: %s, nemo-mcp's own, kept in the state "
                      "dir" % ids[0], doc)

    def test_backend_text_is_escaped_on_stderr(self):
        # The backend's words reach a warning (no claim link: why).
        self.rb.fault(CLAIM, "code", code=4999,
                      msg="bad\x1b[2J\nFAKE nemo-mcp error [auth] forged")
        self.ok("session", {"action": "current"})
        err = self.mcp.stderr()
        self.assertIn("no claim link", err)
        self.assertIn("bad\\x1b[2J\\x0aFAKE", err)
        self.assertNotIn("\x1b", err)
        self.assertFalse(re.search(r"^FAKE", err, re.M), err[-2000:])

if __name__ == "__main__":
    unittest.main()
