"""The token never leaves the token store: not on stdout, stderr (even at
NEMO_LOG=debug), in tool results, in `doctor`, nor in any other file the
server writes; and two servers started at once share one anonymous token."""
import os
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "backend"))

from mcpclient import BIN, McpProcess, text_of  # noqa: E402
from refbackend import RefBackend  # noqa: E402

SAMPLE_PNG = os.path.join(ROOT, "tests", "fixtures", "sample.png")
DRAFT = {"d": 4000, "t": [{"tt": 0, "m": {"name": "Video"},
                           "sg": [{"s": 0, "d": 4000,
                                   "m": {"label": "beach"}}]}]}


def bearer_tokens(rb):
    """Every token the backend saw in an Authorization header."""
    seen = set()
    for r in rb.requests():
        auth = (r.get("headers_lower") or {}).get("authorization", "")
        if auth.lower().startswith("bearer "):
            seen.add(auth[7:].strip())
    return {t for t in seen if len(t) >= 8}


def written_files(config_dir):
    """Text of every file in the config dir except the token store."""
    out = {}
    for base, _, names in os.walk(config_dir):
        for name in names:
            if name.startswith("token") and name.endswith(".json"):
                continue
            path = os.path.join(base, name)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, config_dir)] = fh.read().decode(
                    "utf-8", errors="replace")
    return out


class Secrets(unittest.TestCase):
    def setUp(self):
        self.rb = RefBackend(seed=5).start()
        self.addCleanup(self.rb.stop)
        self.cfg = tempfile.TemporaryDirectory(prefix="nemo-secrets-")
        self.addCleanup(self.cfg.cleanup)
        self.work = tempfile.TemporaryDirectory(prefix="nemo-out-")
        self.addCleanup(self.work.cleanup)
        self.env = {"NEMO_API_BASE": self.rb.url, "NEMO_LOG": "debug",
                    "NO_PROXY": "127.0.0.1", "NEMO_RETRY_429_MS": "10"}

    def scan(self, token_set, texts):
        self.assertTrue(token_set, "the backend saw no token at all")
        for where, text in texts.items():
            for tok in token_set:
                self.assertNotIn(tok, text, f"token leaked into {where}")

    def run_workflow(self, mcp):
        results = []

        def call(name, args):
            r = mcp.call_tool(name, args, progress_token=f"p-{name}",
                              timeout=60)
            self.assertNotIn("error", r)
            results.append(r["result"])
            return r["result"]

        mcp.initialize()
        call("credits", {})
        sid = call("session", {"action": "current"})["structuredContent"][
            "session"]
        call("upload", {"files": [SAMPLE_PNG]})
        call("generate", {"prompt": "animate this image", "wait_seconds": 30})
        self.rb.next_turn("silent")
        call("generate", {"prompt": "make it brighter", "wait_seconds": 30})
        # A token the backend no longer accepts (as after its 7 days, when
        # the per-client limit has reset): the client gets a new one, and
        # neither the old nor the new token shows up anywhere.
        self.rb.config(token_rate_limit=False)
        self.rb.expire_token()
        call("state", {})
        self.rb.set_state(sid, draft=DRAFT)
        call("export", {"download_to": self.work.name, "wait_seconds": 30})
        self.rb.set_credits(0)
        call("generate", {"prompt": "add fireworks", "wait_seconds": 30})
        call("job", {})
        return results

    def test_token_never_written_outside_the_store(self):
        with McpProcess(env=self.env, config_dir=self.cfg.name) as mcp:
            results = self.run_workflow(mcp)
            mcp.close_stdin()
            mcp.wait_exit(5)
            stdout = "\n".join(mcp.lines)
            stderr = mcp.stderr()
        doctor = subprocess.run(
            [BIN, "doctor"], capture_output=True, text=True, timeout=30,
            env={**os.environ, **self.env, "NEMO_CONFIG_DIR": self.cfg.name})
        tokens = bearer_tokens(self.rb)
        self.assertGreaterEqual(len(tokens), 2, "expected a token refresh")
        texts = {"stdout": stdout, "stderr": stderr,
                 "doctor": doctor.stdout + doctor.stderr}
        for i, r in enumerate(results):
            texts[f"result {i}"] = text_of(r) + repr(r)
        for name, text in written_files(self.cfg.name).items():
            texts[f"file {name}"] = text
        self.assertIn("DEBUG".lower(), stderr.lower())  # debug logs were on
        self.scan(tokens, texts)

    def test_env_token_is_not_printed_or_stored(self):
        token, _ = self.rb.bootstrap()
        env = dict(self.env, NEMO_TOKEN=token)
        with McpProcess(env=env, config_dir=self.cfg.name) as mcp:
            mcp.initialize()
            r = mcp.call_tool("credits", {})
            bad = mcp.call_tool("upload", {"files": ["/nonexistent.mp4"]})
            mcp.close_stdin()
            mcp.wait_exit(5)
            stdout, stderr = "\n".join(mcp.lines), mcp.stderr()
        doctor = subprocess.run(
            [BIN, "doctor"], capture_output=True, text=True, timeout=30,
            env={**os.environ, **env, "NEMO_CONFIG_DIR": self.cfg.name})
        self.assertIn("from nemo_token", doctor.stdout.lower())
        files = written_files(self.cfg.name)
        self.assertFalse([n for n in os.listdir(self.cfg.name)
                          if n.startswith("token") and n.endswith(".json")],
                         "NEMO_TOKEN must not be stored")
        self.scan({token}, {"stdout": stdout, "stderr": stderr,
                            "doctor": doctor.stdout + doctor.stderr,
                            "credits": repr(r), "upload": repr(bad),
                            **{f"file {k}": v for k, v in files.items()}})

    def test_two_servers_share_one_anonymous_token(self):
        procs = [McpProcess(env=self.env, config_dir=self.cfg.name)
                 for _ in range(2)]
        try:
            for p in procs:
                p.initialize()
            answers = [None, None]

            def credits(i):
                answers[i] = procs[i].call_tool("credits", {}, timeout=30)

            threads = [threading.Thread(target=credits, args=(i,))
                       for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(40)
            for a in answers:
                self.assertIsNotNone(a)
                self.assertFalse(a["result"].get("isError"), a)
        finally:
            for p in procs:
                p.close()
        token_requests = self.rb.requests("/api/auth/anonymous-token")
        self.assertEqual(len(token_requests), 1, token_requests)
        self.assertEqual(len(bearer_tokens(self.rb)), 1)


if __name__ == "__main__":
    unittest.main()
