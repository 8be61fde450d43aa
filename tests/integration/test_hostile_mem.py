"""Issue 11, findings 4, 5, 13, 14, 15: a hostile backend
(tests/backend/hostile_mem.py) sends endless text, amplifying drafts, empty
error bodies, absurd numbers and forged header lines. Each stays a clear
result or a clear error, in bounded memory (bench/hostile_rss.py measures
the peak RSS of the full-size attacks)."""
import glob
import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "backend"))
from hostile_mem import HostileMem  # noqa: E402

BIN = os.environ.get("NEMO_BIN", os.path.join(ROOT, "build", "nemo-mcp"))


class HostileMemCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hb = HostileMem().start()

    @classmethod
    def tearDownClass(cls):
        cls.hb.stop()

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.conf = os.path.join(self.tmp.name, "conf")
        self.state = os.path.join(self.tmp.name, "state")

    def call(self, tool, *args):
        env = dict(os.environ, NEMO_API_BASE=self.hb.url,
                   NEMO_TOKEN="tok_" + "h" * 40, NEMO_CONFIG_DIR=self.conf,
                   NEMO_STATE_DIR=self.state,
                   HOME=self.tmp.name, NEMO_LOG="warn",
                   NEMO_RETRY_BACKOFF_MS="1", NO_PROXY="127.0.0.1",
                   no_proxy="127.0.0.1")
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                  "NEMO_SKILL_FILE", "NEMO_UPLOAD_ROOTS"):
            env.pop(k, None)
        proc = subprocess.run([BIN, "call", tool, "--json"] + list(args),
                              env=env, capture_output=True, timeout=120)
        err = proc.stderr.decode("utf-8", "replace")
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            self.assertNotIn(bad, err)
        self.assertIn(proc.returncode, (0, 1), err[-2000:])
        out = proc.stdout.decode("utf-8")
        return proc.returncode, out, err

    def assertHas(self, hay, needle):
        """assertIn without printing megabytes of attack on failure."""
        if needle not in hay:
            self.fail("%r not in %r... (%d bytes)" % (needle, hay[:300],
                                                      len(hay)))

    def records(self):
        out = []
        for path in glob.glob(os.path.join(self.state, "jobs", "*.json")):
            with open(path, "rb") as fh:
                out.append((os.path.getsize(path), json.loads(fh.read())))
        return out

    # -- finding 4: the reply is capped, with a visible note -------------
    def test_endless_final_texts_are_cut(self):
        self.hb.set("texts", count=12, size=64 << 10)   # 768 KB of reply
        code, out, _ = self.call("generate", "prompt=add music")
        self.assertEqual(code, 0)
        st = json.loads(out)
        self.assertHas(st["reply"],
                       "(cut: the agent's reply was longer than 256 KB")
        self.assertLess(len(st["reply"]), 300 << 10)
        for size, _ in self.records():
            self.assertLess(size, 1 << 20)

    def test_endless_partials_are_cut(self):
        self.hb.set("partials", count=12, size=64 << 10)
        code, out, err = self.call("generate", "prompt=add music")
        text = out + err
        self.assertHas(text, "(cut:")
        self.assertLess(len(text), 1 << 20)

    def test_repeated_texts_shown_once(self):
        self.hb.set("dups", count=2000)
        code, out, _ = self.call("generate", "prompt=add music")
        reply = json.loads(out)["reply"]
        self.assertEqual(reply.count("Step 1999 is done."), 1)
        self.assertEqual(reply.count("Step 7 is done."), 1)

    # -- finding 5: node amplification and the journal digest -------------
    def test_amplifying_draft_is_refused_clearly(self):
        self.hb.set("draft_nodes", mb=3)       # 1.5 million values
        code, out, err = self.call("state")
        self.assertEqual(code, 1)
        self.assertHas(out + err, "too many values")

    def test_deep_draft_is_refused_clearly(self):
        self.hb.set("draft_deep", depth=5000)
        code, out, err = self.call("state")
        self.assertEqual(code, 1)
        self.assertHas(out + err, "nested too deeply")

    def test_journal_keeps_a_digest_not_the_draft(self):
        self.hb.set("draft_big", segs=400, label=300)   # ~150 KB of draft
        code, out, _ = self.call("generate", "prompt=add music")
        self.assertEqual(code, 0)
        recs = [r for _, r in self.records() if r.get("tool") == "generate"]
        self.assertEqual(len(recs), 1)
        before = recs[0]["resume"]["before"]
        self.assertEqual(before.get("v"), 1)           # a digest ...
        self.assertNotIn("sg", json.dumps(before))     # ... not the draft
        self.assertEqual(sum(len(t[3]) for t in before["t"]), 400)

    # -- findings 13, 14, 15 -----------------------------------------------
    def test_empty_error_body(self):
        for status, word in ((502, "HTTP 502"), (401, "token"),
                             (404, "404")):
            self.hb.set("empty_error", status=status)
            code, out, err = self.call("credits")
            self.assertEqual(code, 1)
            self.assertHas(out + err, word)

    def test_huge_envelope_code(self):
        self.hb.set("code_huge")
        code, out, err = self.call("credits")
        self.assertEqual(code, 1)
        self.assertHas(out + err, "huge (code -1)")

    def test_forged_status_line_header(self):
        self.hb.set("forged_header")
        code, out, _ = self.call("state")
        self.assertEqual(code, 0)
        self.assertHas(out, "city timelapse")


if __name__ == "__main__":
    unittest.main()


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tools_fixture import ToolsCase  # noqa: E402


class JobCap(ToolsCase):
    """Finding 6: 1,200 `export` calls with wait_seconds 0 made 1,005
    threads. Past NEMO_MAX_JOBS running jobs a call is refused, clearly."""

    backend_config = {"silent_ratio": 0, "turn_ms": 60000,
                      "heartbeat_ms": 50}

    def server_env(self, extra=None):
        env = super().server_env(extra)
        env["NEMO_MAX_JOBS"] = "2"
        return env

    def test_running_jobs_are_capped(self):
        jobs = [self.ok("generate", {"prompt": "add music %d" % i,
                                     "wait_seconds": 0}) for i in range(2)]
        for st in jobs:
            self.assertEqual(st["status"], "running")
        text = self.fails("generate", {"prompt": "add a title",
                                       "wait_seconds": 0})
        self.assertIn("2 background jobs are already running", text)
        self.assertIn("`job`", text)
        self.assertIn("cancel", text)
        # the running ones are untouched and can still be collected
        for st in jobs:
            res = self.call("job", {"job": st["job"], "cancel": True})
            self.assertFalse(res.get("isError"))
