#!/usr/bin/env python3
"""A hostile NemoVideo backend for the memory and parser findings of issue 11
(4, 5, 13, 14, 15, 17): it answers the few calls `generate` and `state` make
(session, state, run_sse, credits) with whatever the current attack says.
Python 3 standard library only; loopback only.

    with HostileMem("texts", count=400, size=1 << 20) as hb:
        env["NEMO_API_BASE"] = hb.url
        ...
        hb.set("draft_nodes", mb=31)        # switch the attack

python3 tests/backend/hostile_mem.py MODE [key=value ...] prints
`READY <url>` and serves until killed.

Attacks (mode, parameters):
  ok            a plain turn ("Done.") and a small draft
  texts         count final events of size bytes each, all different
  partials      count partial chunks of size bytes, no final event
  dups          count small final texts, then each of them again (linear
                duplicate check), then the whole reply again
  gui_runs      one final text "Click ****...Export****..." of size bytes
  long_line     one SSE data line of size bytes with no end
  draft_nodes   the state's draft is mb MB of [0,0,...] (node amplification)
  draft_deep    the draft nests depth arrays deep
  draft_big     a valid draft near the limits: segs segments, labels of
                label bytes (what a legitimate huge project could send)
  empty_error   every API call answers status with an empty body
  code_huge     every envelope has "code": 1e19
  forged_header state answers 200 with a header line "HTTP/1.1 500 X: y"
                in the middle of its headers
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SID = "0b5e5a1e-0000-4000-8000-00000000abcd"

SMALL_DRAFT = {"d": 10000, "t": [
    {"tt": 0, "m": {"name": "Video"}, "sg": [{"s": 0, "d": 10000,
     "m": {"label": "city timelapse"}}]}]}


def envelope(data, code=0):
    return json.dumps({"code": code, "msg": "success", "data": data}).encode()


def event(text, partial=False, complete=False):
    ev = {"author": "nemo_agent",
          "content": {"role": "model", "parts": [{"text": text}]}}
    if partial:
        ev["partial"] = True
    if complete:
        ev["turnComplete"] = True
    return b"data: " + json.dumps(ev).encode() + b"\n\n"


class Attack:
    """The current mode and its parameters; bodies are built lazily and
    kept, so a matrix run does not rebuild 30 MB for every request."""

    def __init__(self, mode="ok", **params):
        self.mode = mode
        self.params = params
        self.cache = {}

    def p(self, key, default):
        return int(self.params.get(key, default))

    def draft_body(self):
        if "draft" in self.cache:
            return self.cache["draft"]
        m = self.mode
        if m == "draft_nodes":
            n = self.p("mb", 31) << 20
            arr = b"[" + b"0," * (n // 2 - 1) + b"0]"
            body = (b'{"code":0,"msg":"success","data":{"session_id":"' +
                    SID.encode() + b'","state":{"draft":' + arr + b"}}}")
        elif m == "draft_deep":
            d = self.p("depth", 100000)
            body = (b'{"code":0,"data":{"state":{"draft":' + b"[" * d +
                    b"]" * d + b"}}}")
        elif m == "draft_big":
            segs, label = self.p("segs", 12000), self.p("label", 400)
            tracks = []
            for t in range(4):
                sg = [{"s": i * 1000, "d": 1000,
                       "m": {"label": ("%d-%d " % (t, i)) + "x" * label}}
                      for i in range(segs // 4)]
                tracks.append({"tt": [0, 1, 7, 0][t], "m": {"name": "T%d" % t},
                               "sg": sg})
            body = envelope({"session_id": SID, "state": {
                "draft": {"d": segs * 250, "t": tracks},
                "video_infos": [], "generated_media": []}})
        else:
            body = envelope({"session_id": SID, "state": {
                "draft": SMALL_DRAFT, "video_infos": [],
                "generated_media": []}})
        self.cache["draft"] = body
        return body

    def sse_chunks(self):
        """The /run_sse body as a sequence of byte chunks."""
        m = self.mode
        if m == "texts":
            n, size = self.p("count", 400), self.p("size", 1 << 20)
            base = "a" * size
            for i in range(n):
                yield event("%08d" % i + base[8:])
        elif m == "partials":
            n, size = self.p("count", 400), self.p("size", 1 << 20)
            chunk = "p" * size
            for _ in range(n):
                yield event(chunk, partial=True)
            return                          # no final event, no turnComplete
        elif m == "dups":
            n = self.p("count", 20000)
            for i in range(n):
                yield event("Step %d is done." % i)
            for i in range(n):
                yield event("Step %d is done." % i)
            yield event("\n\n".join("Step %d is done." % i for i in range(n)))
        elif m == "gui_runs":
            size = self.p("size", 200000)
            half = size // 2
            yield event("Click " + "*" * half + "Export" + "*" * half)
        elif m == "long_line":
            size = self.p("size", 5 << 20)
            yield b"data: " + b"x" * size
            return
        else:
            yield event("Done.")
        yield b'data: {"turnComplete":true}\n\n'


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass          # a client that stops reading an attack: expected

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def common(self):
        """The attacks that apply to every API call; True when answered."""
        a = self.server.attack
        if a.mode == "empty_error":
            self.send_response(a.p("status", 502))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True
        if a.mode == "code_huge":
            self.send(200, b'{"code":1e19,"msg":"huge","data":null}')
            return True
        return False

    def do_GET(self):
        a = self.server.attack
        if self.common():
            return
        if self.path.startswith("/api/state/"):
            if a.mode == "forged_header":
                body = a.draft_body()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("HTTP/1.1 500 Forged", "yes")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send(200, a.draft_body())
        elif self.path.startswith("/api/credits/"):
            self.send(200, envelope({"available": 100, "frozen": 0,
                                     "total": 100}))
        else:
            self.send(404, envelope(None, 404))

    def do_POST(self):
        a = self.server.attack
        self.read_body()
        if self.common():
            return
        if self.path.startswith("/api/tasks/me/with-session/"):
            self.send(200, envelope({"session_id": SID, "task_id": "t1"}))
        elif self.path == "/run_sse":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for chunk in a.sse_chunks():
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass                     # the client gave up: as it should
            self.close_connection = True
        else:
            self.send(404, envelope(None, 404))


class HostileMem:
    def __init__(self, mode="ok", **params):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.attack = Attack(mode, **params)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)

    def set(self, mode, **params):
        self.server.attack = Attack(mode, **params)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv):
    mode = argv[1] if len(argv) > 1 else "ok"
    params = dict(a.split("=", 1) for a in argv[2:])
    hb = HostileMem(mode, **params).start()
    print("READY " + hb.url, flush=True)
    try:
        hb.thread.join()
    except KeyboardInterrupt:
        hb.stop()


if __name__ == "__main__":
    main(sys.argv)
