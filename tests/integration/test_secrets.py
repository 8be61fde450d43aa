"""The token never leaves the token store: not on stdout, stderr (even at
NEMO_LOG=debug), in tool results (even when the backend echoes it), in a
link, in `doctor`, in the job journal, nor in any other file the server
writes; the shared config dir holds no credential at all (the token store
lives in nemo-mcp's state dir); and two servers started at once share one
anonymous token."""
import json
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
from tools_fixture import ToolsCase  # noqa: E402

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


def written_files(*dirs):
    """Text of every file in the dirs except the token store."""
    out = {}
    for d in dirs:
        for base, _, names in os.walk(d):
            for name in names:
                if name.startswith("token") and name.endswith(".json"):
                    continue
                path = os.path.join(base, name)
                with open(path, "rb") as fh:
                    out[path] = fh.read().decode("utf-8", errors="replace")
    return out


class Secrets(unittest.TestCase):
    def setUp(self):
        self.rb = RefBackend(seed=5).start()
        self.addCleanup(self.rb.stop)
        self.root = tempfile.TemporaryDirectory(prefix="nemo-secrets-")
        self.addCleanup(self.root.cleanup)
        self.config_dir = os.path.join(self.root.name, "config")
        self.state_dir = os.path.join(self.root.name, "state")
        os.mkdir(self.config_dir, 0o700)
        self.work = tempfile.TemporaryDirectory(prefix="nemo-out-")
        self.addCleanup(self.work.cleanup)
        self.env = {"NEMO_API_BASE": self.rb.url, "NEMO_LOG": "debug",
                    "NO_PROXY": "127.0.0.1", "NEMO_RETRY_429_MS": "10",
                    "NEMO_CONFIG_DIR": self.config_dir,
                    "NEMO_STATE_DIR": self.state_dir}

    def server(self, env=None):
        return McpProcess(env=env or self.env, config_dir=self.config_dir,
                          state_dir=self.state_dir)

    def scan(self, token_set, texts):
        self.assertTrue(token_set, "the backend saw no token at all")
        for where, text in texts.items():
            for tok in token_set:
                self.assertNotIn(tok, text, f"token leaked into {where}")
                # nor a part of it left by cutting before redacting
                self.assertNotIn(tok[:16], text, f"token part in {where}")

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
        # A backend that echoes the token back in an error, an agent reply
        # and a job record: redacted everywhere, before anything is cut.
        tok = next(iter(bearer_tokens(self.rb)))
        self.rb.fault("/api/credits", "code", code=4999,
                      msg=("x" * 280) + tok + " was rejected")
        call("credits", {})
        sid = call("session", {"action": "current"})["structuredContent"][
            "session"]
        self.assertIn("claim_url", results[-1]["structuredContent"])
        self.rb.next_turn("text", text="Your token is " + tok + ". Done.")
        call("generate", {"prompt": "add a title", "wait_seconds": 30})
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
        with self.server() as mcp:
            results = self.run_workflow(mcp)
            mcp.close_stdin()
            mcp.wait_exit(5)
            stdout = "\n".join(mcp.lines)
            stderr = mcp.stderr()
        doctor = subprocess.run(
            [BIN, "doctor"], capture_output=True, text=True, timeout=30,
            env={**os.environ, **self.env})
        tokens = bearer_tokens(self.rb)
        # the shared dir: the client id and nothing else
        self.assertEqual(os.listdir(self.config_dir), ["client_id"])
        self.assertTrue([n for n in os.listdir(self.state_dir)
                         if n.startswith("token")])
        journal = os.listdir(os.path.join(self.state_dir, "jobs"))
        self.assertTrue([n for n in journal if n.endswith(".json")])
        self.assertGreaterEqual(len(tokens), 2, "expected a token refresh")
        texts = {"stdout": stdout, "stderr": stderr,
                 "doctor": doctor.stdout + doctor.stderr}
        for i, r in enumerate(results):
            texts[f"result {i}"] = text_of(r) + repr(r)
        for name, text in written_files(self.config_dir,
                                        self.state_dir).items():
            texts[f"file {name}"] = text
        self.assertTrue(any("[redacted]" in t for t in texts.values()))
        self.assertIn("DEBUG".lower(), stderr.lower())  # debug logs were on
        self.scan(tokens, texts)

    def test_env_token_is_not_printed_or_stored(self):
        token, _ = self.rb.bootstrap()
        env = dict(self.env, NEMO_TOKEN=token)
        with self.server(env) as mcp:
            mcp.initialize()
            r = mcp.call_tool("credits", {})
            bad = mcp.call_tool("upload", {"files": ["/nonexistent.mp4"]})
            mcp.close_stdin()
            mcp.wait_exit(5)
            stdout, stderr = "\n".join(mcp.lines), mcp.stderr()
        doctor = subprocess.run(
            [BIN, "doctor"], capture_output=True, text=True, timeout=30,
            env={**os.environ, **env})
        self.assertIn("from nemo_token", doctor.stdout.lower())
        files = written_files(self.config_dir, self.state_dir)
        for d in (self.config_dir, self.state_dir):
            self.assertFalse([n for n in os.listdir(d) if n.startswith(
                "token") and n.endswith(".json")] if os.path.isdir(d)
                else [], "NEMO_TOKEN must not be stored")
        self.scan({token}, {"stdout": stdout, "stderr": stderr,
                            "doctor": doctor.stdout + doctor.stderr,
                            "credits": repr(r), "upload": repr(bad),
                            **{f"file {k}": v for k, v in files.items()}})

    def test_two_servers_share_one_anonymous_token(self):
        procs = [self.server() for _ in range(2)]
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



class ShortSecrets(unittest.TestCase):
    """A token of any length is redacted: a 5-character NEMO_TOKEN that
    the backend rejects and echoes back never shows as a whole word."""

    def test_short_env_token_redacted(self):
        with RefBackend(seed=6) as rb, \
                tempfile.TemporaryDirectory() as root:
            env = {"NEMO_API_BASE": rb.url, "NEMO_LOG": "debug",
                   "NEMO_TOKEN": "Zq7x2", "NO_PROXY": "127.0.0.1"}
            rb.fault("/api/credits", "code", code=4999,
                     msg="token Zq7x2 is not valid here")
            with McpProcess(env=env, config_dir=os.path.join(root, "c"),
                            state_dir=os.path.join(root, "s")) as mcp:
                mcp.initialize()
                r = mcp.call_tool("credits", {})
                mcp.close_stdin()
                mcp.wait_exit(5)
                out = "\n".join(mcp.lines) + mcp.stderr()
            self.assertTrue(r["result"]["isError"])
            self.assertIn("[redacted]", text_of(r["result"]))
            self.assertNotIn("Zq7x2", out)


class EchoedOutsideTools(ToolsCase):
    """Messages that are not tool results carry backend text too (a
    resource's timeline, the agent's question sent to the person): a
    backend that echoes the token never gets it onto stdout."""

    def test_resource_read_and_question(self):
        sid = self.session()
        self.rb.set_state(sid, draft={"d": 4000, "t": [{
            "tt": 0, "m": {"name": "Video " + self.token},
            "sg": [{"s": 0, "d": 4000,
                    "m": {"label": "clip " + self.token}}]}]})
        r = self.mcp.request("resources/read", {
            "uri": "nemo://sessions/%s/timeline" % sid})
        self.assertIn("result", r)
        self.assertIn("[redacted]", json.dumps(r))
        # The form's heading quotes the reply cut to 600 bytes: the cut
        # falls inside the token.
        self.rb.next_turn("ask", text="a " * 290 + self.token + "?",
                          questions=[{"id": "k", "prompt": "Keep " +
                                      self.token + "?", "options": [
                                          "yes " + self.token, "no"]}])
        r = self.mcp.request("tools/call", {
            "name": "generate", "arguments": {"prompt": "edit",
                                              "wait_seconds": 30}},
            meta=self.mcp.stateless_meta(capabilities={"elicitation": {}}))
        self.assertEqual(r["result"]["resultType"], "input_required", r)
        self.assert_no_token_in_output()
        out = "\n".join(self.mcp.lines)
        self.assertNotIn(self.token[:16], out)        # nor a part of it


if __name__ == "__main__":
    unittest.main()
