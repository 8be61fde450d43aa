"""Shared set-up for the tools' integration tests (test_tools_*.py): a
reference backend in a thread, build/nemo-mcp over stdio pointed at it, and
small helpers to call a tool and read its structured result."""
import json
import os
import shutil
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS, "backend"))
sys.path.insert(0, HERE)

from mcpclient import McpProcess, text_of  # noqa: E402
from refbackend import RefBackend  # noqa: E402

FIXTURES = os.path.join(TESTS, "fixtures")
SAMPLE_MP4 = os.path.join(FIXTURES, "sample.mp4")

# The seeds' example timeline, in the backend's draft format.
SEED_DRAFT = {
    "d": 10000,
    "t": [
        {"tt": 0, "m": {"name": "Video"},
         "sg": [{"s": 0, "d": 10000, "m": {"label": "city timelapse"}}]},
        {"tt": 1, "m": {"name": "BGM"},
         "sg": [{"s": 0, "d": 10000,
                 "m": {"label": "Lo-fi", "volume": 0.35}}]},
        {"tt": 7, "m": {"name": "Title"},
         "sg": [{"s": 0, "d": 3000, "m": {"text": "Urban Dreams"}}]},
    ],
}


ROOT = os.path.dirname(TESTS)
_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool,
          "null": type(None)}


def schema_errors(schema, value, where="structuredContent"):
    """The JSON Schema subset the tool schemas use: type (or a list of
    types), enum, required, properties, additionalProperties false, items,
    minimum, maximum. Returns a list of problems."""
    errs = []
    types = schema.get("type")
    if types is not None:
        types = types if isinstance(types, list) else [types]

        def is_type(t):
            if t == "integer":
                return isinstance(value, int) and not isinstance(value, bool)
            if t == "number":
                return isinstance(value, (int, float)) and \
                    not isinstance(value, bool)
            return isinstance(value, _TYPES[t]) and not (
                t != "boolean" and isinstance(value, bool))
        if not any(is_type(t) for t in types):
            return [f"{where}: {value!r} is not {types}"]
    if "enum" in schema and value not in schema["enum"]:
        errs.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errs.append(f"{where}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errs.append(f"{where}: {value} > {schema['maximum']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errs.append(f"{where}: missing {key}")
        for key, v in value.items():
            if key in props:
                errs += schema_errors(props[key], v, f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                errs.append(f"{where}: unexpected {key}")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            errs += schema_errors(schema["items"], v, f"{where}[{i}]")
    return errs


def output_schema(tool):
    with open(os.path.join(ROOT, "schemas", tool + ".json")) as fh:
        return json.load(fh)["outputSchema"]


def wait_until(predicate, timeout=10.0, what="condition"):
    """Poll a condition that another process makes true (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


class ToolsCase(unittest.TestCase):
    """One backend and one server per test."""

    backend_config = {"silent_ratio": 0, "turn_ms": 60, "heartbeat_ms": 20}
    backend_class = RefBackend     # tests/backend/hostile.py for attacks
    exit_timeout = 10              # seconds a server may take to exit

    def setUp(self):
        self.rb = self.backend_class(seed=11,
                                     config=dict(self.backend_config))
        self.rb.start()
        self.addCleanup(self.rb.stop)
        self.token = self.rb.issue_token()
        self.tmp = tempfile.mkdtemp(prefix="nemo-tools-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.config_dir = os.path.join(self.tmp, "config")
        os.mkdir(self.config_dir)
        self.state_dir = os.path.join(self.tmp, "state")
        self.work = os.path.join(self.tmp, "work")
        os.mkdir(self.work)
        self.mcp = self.start_server()

    def server_env(self, extra=None):
        # OpenSSL keeps per-thread random state that libcurl creates on
        # worker threads (multipart boundaries); LeakSanitizer may see it
        # at exit. Nothing of ours lives in libcrypto, so only that is
        # ignored.
        supp = os.path.join(self.tmp, "lsan.supp")
        with open(supp, "w") as fh:
            fh.write("leak:libcrypto.so\n")
        lsan = os.environ.get("LSAN_OPTIONS", "")
        env = {"NEMO_API_BASE": self.rb.url, "NEMO_TOKEN": self.token,
               "NEMO_LOG": "info", "NEMO_SKILL_FILE": None,
               "NEMO_UPLOAD_ROOTS": None, "HOME": self.tmp,
               "LSAN_OPTIONS": (lsan + ":" if lsan else "") +
               "suppressions=" + supp + ":print_suppressions=0"}
        env.update(extra or {})
        return env

    def start_server(self, extra_env=None):
        mcp = McpProcess(env=self.server_env(extra_env),
                         config_dir=self.config_dir,
                         state_dir=self.state_dir, timeout=30)
        self.addCleanup(self.stop_server, mcp)
        mcp.initialize()
        return mcp

    def stop_server(self, mcp):
        """End of input -> a clean exit; sanitizer reports fail the test."""
        mcp.close_stdin()
        try:
            code = mcp.wait_exit(self.exit_timeout)
        except Exception:  # noqa: BLE001 - close() kills it below
            code = None
        err = mcp.stderr()
        mcp.close()
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                    "ThreadSanitizer", "does not match its schema",
                    "returned no structured content"):
            self.assertNotIn(bad, err, err[-4000:])
        if code is not None and code != -9:
            self.assertEqual(code, 0, err[-2000:])

    # -- calls -----------------------------------------------------------
    def call(self, name, args=None, mcp=None, **kw):
        """The CallToolResult (never a JSON-RPC error)."""
        r = (mcp or self.mcp).call_tool(name, args or {}, **kw)
        self.assertNotIn("error", r, f"{name}: JSON-RPC error {r}")
        return r["result"]

    def ok(self, name, args=None, mcp=None, **kw):
        """structuredContent of a successful call; checks content text."""
        res = self.call(name, args, mcp, **kw)
        self.assertFalse(res.get("isError"),
                         f"{name} failed: {text_of(res)}")
        self.assertTrue(text_of(res).strip(), f"{name}: no content text")
        self.assertIn("structuredContent", res)
        st = res["structuredContent"]
        self.assertEqual(schema_errors(output_schema(name), st), [],
                         f"{name} output does not match its schema")
        return st

    def fails(self, name, args=None, mcp=None, **kw):
        """Content text of a call that must fail as a tool error."""
        res = self.call(name, args, mcp, **kw)
        self.assertTrue(res.get("isError"),
                        f"{name} should have failed: {res}")
        return text_of(res)

    def session(self, mcp=None):
        return self.ok("session", {"action": "current"}, mcp)["session"]

    # -- backend log -----------------------------------------------------
    def seq(self):
        log = self.rb.requests()
        return log[-1]["seq"] if log else 0

    def requests(self, path=None, since=0):
        return self.rb.requests(path, since)

    def assert_no_token_in_output(self, mcp=None):
        m = mcp or self.mcp
        self.assertNotIn(self.token, "\n".join(m.lines))
        self.assertNotIn(self.token, m.stderr())
        self.assertEqual(m.garbage, [])
