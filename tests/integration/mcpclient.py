"""A small MCP client for tests: runs build/nemo-mcp over pipes.

    with McpProcess(env={...}) as mcp:
        mcp.initialize()                     # handshake era
        r = mcp.request("tools/list")        # -> the whole response message
        r = mcp.call_tool("credits", {})     # -> response; r["result"]...
        mcp.notifications("notifications/progress")

Stateless era (2026-07-28): pass meta=mcp.stateless_meta() to request(), or
use mcp.call_tool(..., era="2026-07-28").

Requests the server sends (elicitation/create, roots/list; handshake era
only) go to mcp.on_request(msg), which returns a result dict (or
{"error": {...}} for an error response); without a handler they get a
method-not-found error. mcp.server_requests lists them.

Every line the server writes is kept in mcp.lines (raw) and mcp.messages
(parsed); a line that is not JSON is recorded in mcp.garbage so tests can
assert that stdout carries only protocol.
"""
import json
import os
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NEMO_BIN", os.path.join(ROOT, "build", "nemo-mcp"))
STATELESS = "2026-07-28"
HANDSHAKE = "2025-11-25"


class McpError(AssertionError):
    pass


class McpProcess:
    def __init__(self, env=None, args=(), config_dir=None, binary=None,
                 timeout=20.0, state_dir=None):
        self.timeout = timeout
        self._own_config = None
        if config_dir is None:
            self._own_config = tempfile.TemporaryDirectory(prefix="nemo-cfg-")
            config_dir = os.path.join(self._own_config.name, "config")
            os.mkdir(config_dir, 0o700)
            if state_dir is None:
                state_dir = os.path.join(self._own_config.name, "state")
        # The shared config dir holds only the client id; nemo-mcp's token
        # store, session and jobs go to the state dir.
        if state_dir is None:
            state_dir = os.path.join(config_dir, "state")
        self.config_dir = config_dir
        self.state_dir = state_dir
        full_env = dict(os.environ)
        full_env.update({
            "NEMO_CONFIG_DIR": config_dir,
            "NEMO_STATE_DIR": state_dir,
            "NEMO_HEARTBEAT_MS": "50",
            "NEMO_RENDER_POLL_MS": "20",
            "NEMO_RETRY_429_MS": "10",
        })
        full_env.pop("NEMO_TOKEN", None)
        if env:
            for k, v in env.items():
                if v is None:
                    full_env.pop(k, None)
                else:
                    full_env[k] = str(v)
        self.env = full_env
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [binary or BIN, *args], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._stderr, env=full_env)
        self.lines = []
        self.sent = []            # every message sent, parsed
        self.messages = []
        self.garbage = []
        self._responses = {}
        self._cv = threading.Condition()
        self._next_id = 1
        self._eof = False
        self.on_request = None
        self.server_requests = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # -- plumbing ---------------------------------------------------------
    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            with self._cv:
                self.lines.append(line)
                try:
                    msg = json.loads(line)
                except ValueError:
                    self.garbage.append(line)
                    self._cv.notify_all()
                    continue
                self.messages.append(msg)
                if isinstance(msg, dict) and "id" in msg and (
                        "result" in msg or "error" in msg):
                    self._responses.setdefault(_key(msg["id"]), []).append(msg)
                is_request = isinstance(msg, dict) and "id" in msg and \
                    "method" in msg
                if is_request:
                    self.server_requests.append(msg)
                self._cv.notify_all()
            if is_request:
                self._answer(msg)
        with self._cv:
            self._eof = True
            self._cv.notify_all()

    def _answer(self, req):
        """Answer a request from the server (on the reader thread)."""
        handler = self.on_request
        out = handler(req) if handler else {"error": {
            "code": -32601, "message": "Method not found"}}
        msg = {"jsonrpc": "2.0", "id": req["id"]}
        if out is None:
            return            # never answered (timeouts)
        if "error" in out and len(out) == 1:
            msg["error"] = out["error"]
        else:
            msg["result"] = out
        try:
            self.send(msg)
        except (BrokenPipeError, ValueError, OSError):
            pass

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, msg):
        with self._cv:
            self.sent.append(msg)
        self.send_raw(json.dumps(msg) + "\n")

    def new_id(self):
        with self._cv:
            i = self._next_id
            self._next_id += 1
        return i

    def wait_response(self, rid, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cv:
            while True:
                got = self._responses.get(_key(rid))
                if got:
                    return got[0]
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    raise McpError(f"no response for id {rid!r}; stderr:\n"
                                   + self.stderr()[-3000:])
                self._cv.wait(left)

    def wait_for(self, predicate, timeout=None, what="message"):
        """Wait until predicate(message) holds for some message; return it."""
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cv:
            while True:
                for m in self.messages:
                    if predicate(m):
                        return m
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    raise McpError(f"timed out waiting for {what}")
                self._cv.wait(left)

    def responses_for(self, rid):
        with self._cv:
            return list(self._responses.get(_key(rid), []))

    def notifications(self, method=None):
        with self._cv:
            return [m for m in self.messages
                    if isinstance(m, dict) and "id" not in m
                    and (method is None or m.get("method") == method)]

    # -- protocol helpers -------------------------------------------------
    def stateless_meta(self, version=STATELESS, capabilities=None,
                       log_level=None, progress_token=None):
        meta = {
            "io.modelcontextprotocol/protocolVersion": version,
            "io.modelcontextprotocol/clientCapabilities": capabilities or {},
            "io.modelcontextprotocol/clientInfo": {"name": "tests",
                                                   "version": "1.0"},
        }
        if log_level:
            meta["io.modelcontextprotocol/logLevel"] = log_level
        if progress_token is not None:
            meta["progressToken"] = progress_token
        return meta

    def request_async(self, method, params=None, meta=None, rid=None):
        rid = self.new_id() if rid is None else rid
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None or meta is not None:
            params = dict(params or {})
            if meta:
                params["_meta"] = dict(meta)
            msg["params"] = params
        self.send(msg)
        return rid

    def request(self, method, params=None, meta=None, timeout=None):
        rid = self.request_async(method, params, meta)
        return self.wait_response(rid, timeout)

    def notify(self, method, params=None):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def initialize(self, version=HANDSHAKE, capabilities=None):
        r = self.request("initialize", {
            "protocolVersion": version,
            "capabilities": capabilities or {},
            "clientInfo": {"name": "tests", "version": "1.0"},
        })
        if "error" in r:
            raise McpError(f"initialize failed: {r}")
        self.notify("notifications/initialized")
        return r

    def call_tool_async(self, name, arguments=None, progress_token=None,
                        era=None, meta=None):
        meta = dict(meta or {})
        if era == STATELESS:
            meta = {**self.stateless_meta(), **meta}
        if progress_token is not None:
            meta["progressToken"] = progress_token
        return self.request_async("tools/call",
                                  {"name": name, "arguments": arguments or {}},
                                  meta or None)

    def call_tool(self, name, arguments=None, progress_token=None, era=None,
                  meta=None, timeout=None):
        rid = self.call_tool_async(name, arguments, progress_token, era, meta)
        return self.wait_response(rid, timeout)

    def tool_result(self, name, arguments=None, **kw):
        """The CallToolResult of a call that must not be a JSON-RPC error."""
        r = self.call_tool(name, arguments, **kw)
        if "error" in r:
            raise McpError(f"{name} -> JSON-RPC error {r['error']}")
        return r["result"]

    # -- lifecycle --------------------------------------------------------
    def stderr(self):
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", errors="replace")

    def close_stdin(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def wait_exit(self, timeout=5.0):
        return self.proc.wait(timeout=timeout)

    def close(self):
        self.close_stdin()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=2)
        self.proc.stdout.close()
        self._stderr.close()
        if self._own_config:
            self._own_config.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _key(rid):
    return (type(rid).__name__, rid)


def text_of(result):
    """Concatenated text content of a CallToolResult."""
    return "\n".join(c.get("text", "") for c in result.get("content", [])
                     if c.get("type") == "text")
