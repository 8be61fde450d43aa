"""A minimal, synchronous MCP client over a child's stdio, for the benchmark.

Synchronous on purpose: the caller's thread writes a request and reads lines
until the answer with that id arrives, so a measured round trip contains no
hand-off to a reader thread. Messages that are not the awaited answer
(notifications, other responses) are counted and kept by id.
"""
import json
import os
import select
import subprocess
import time

HANDSHAKE = "2025-11-25"


class McpPipeError(RuntimeError):
    pass


class McpPipe:
    def __init__(self, argv, env=None, cwd=None):
        self.t_spawn = time.perf_counter()
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=env, cwd=cwd, bufsize=0)
        self.fd = self.proc.stdout.fileno()
        self.buf = b""
        self.next_id = 1
        self.answers = {}
        self.notifications = 0

    @property
    def pid(self):
        return self.proc.pid

    def write(self, *messages):
        data = b"".join(json.dumps(m, separators=(",", ":")).encode() + b"\n"
                        for m in messages)
        self.proc.stdin.write(data)

    def request_msg(self, method, params=None):
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.next_id += 1
        return msg

    def _line(self, deadline):
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                line, self.buf = self.buf[:nl], self.buf[nl + 1:]
                return line
            left = deadline - time.perf_counter()
            if left <= 0:
                raise McpPipeError("timed out waiting for the server")
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                raise McpPipeError("the server closed its stdout")
            self.buf += chunk

    def wait(self, req_id, timeout=30.0):
        """The response message with id req_id."""
        if req_id in self.answers:
            return self.answers.pop(req_id)
        deadline = time.perf_counter() + timeout
        while True:
            line = self._line(deadline)
            if not line.strip():
                continue
            msg = json.loads(line)
            if "id" in msg and ("result" in msg or "error" in msg):
                if msg["id"] == req_id:
                    return msg
                self.answers[msg["id"]] = msg
            else:
                self.notifications += 1

    def call(self, method, params=None, timeout=30.0):
        msg = self.request_msg(method, params)
        self.write(msg)
        resp = self.wait(msg["id"], timeout)
        if "error" in resp:
            raise McpPipeError("%s: %s" % (method, resp["error"]))
        return resp["result"]

    def handshake_msgs(self):
        return [self.request_msg("initialize", {
                    "protocolVersion": HANDSHAKE, "capabilities": {},
                    "clientInfo": {"name": "nemo-bench", "version": "1"}}),
                {"jsonrpc": "2.0", "method": "notifications/initialized"}]

    def initialize(self, timeout=30.0):
        init, note = self.handshake_msgs()
        self.write(init, note)
        resp = self.wait(init["id"], timeout)
        if "error" in resp:
            raise McpPipeError("initialize: %s" % resp["error"])
        return resp["result"]

    def cancel(self, req_id):
        self.write({"jsonrpc": "2.0", "method": "notifications/cancelled",
                    "params": {"requestId": req_id, "reason": "bench done"}})

    def close(self, timeout=5.0):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def proc_status(pid, keys=("VmRSS", "VmHWM")):
    """{key: kB} from /proc/<pid>/status."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in keys:
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out
