#!/usr/bin/env python3
"""Write the seed corpus of every fuzz target under tests/fuzz/corpus/.

Seeds are small, hand-picked inputs that reach the interesting paths of
each parser (and the hostile shapes of issue 11); libFuzzer grows its own
corpus from them in build-fuzz/corpus/. Re-run after changing a seed here:
    python3 tests/fuzz/make_seeds.py
Files are named by a hash of their content, so re-running is idempotent.
"""
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def fixture(*parts):
    with open(os.path.join(ROOT, "tests", "fixtures", *parts), "rb") as f:
        return f.read()


DRAFT = {"d": 10000, "t": [
    {"tt": 0, "m": {"name": "Video"}, "sg": [{"s": 0, "d": 10000,
     "m": {"label": "city timelapse", "src": "f_123"}}]},
    {"tt": 1, "m": {"name": "BGM"}, "sg": [{"d": 10000,
     "m": {"label": "Lo-fi", "volume": 0.35}}]},
    {"tt": 7, "m": {"name": "Title"}, "sg": [{"s": 0, "d": 3000,
     "m": {"text": "Urban Dreams"}}]}]}


def j(v):
    return json.dumps(v, ensure_ascii=False).encode()


def seeds():
    s = {}
    s["rpc"] = [
        b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}',
        b'{"jsonrpc":"2.0","method":"notifications/initialized"}',
        b'{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"credits","arguments":{}}}',
        b'{"jsonrpc":"2.0","id":9007199254740993,"method":"ping"}',
        b'{"jsonrpc":"2.0","id":1.5,"method":"ping"}',
        b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]',
        b'{"jsonrpc":"1.0","id":null,"method":7}',
        b'{"jsonrpc":"2.0","id":2,"result":{}}',
        b'   ',
        b'{"jsonrpc":"2.0","id":1,"method":"ping"',
        b'\xff\xfe{"jsonrpc":"2.0"}',
    ]
    s["validate"] = [
        j({"prompt": "add music", "wait_seconds": 30}),
        j({"files": ["/tmp/a.mp4"], "urls": ["https://x/y.mp4"]}),
        j({"job": "job_0123456789abcdef", "cancel": True}),
        j({"download_to": "/tmp/out.mp4", "overwrite": True,
           "wait_seconds": 1e19}),
        j({"action": "new"}), b'[]', b'"x"', b'{"wait_seconds":-1}',
        j({"prompt": "x" * 300, "request_id": "r" * 80}),
    ]
    s["sse"] = [
        b"\x04" + fixture("media", "adk_turn.sse"),
        b"\x01" + fixture("media", "spec_edges.sse"),
        b"\x00data: a\r\ndata: b\r\n\r\n: ping\n\nevent: error\ndata: x\n\n",
        b"\x10id: 7\nretry: 100\ndata\n\ndata:\n\n\n\xef\xbb\xbfdata: bom\n\n",
    ]
    s["adk"] = [
        b'{"partial":true,"content":{"parts":[{"text":"Adding "}]}}\n'
        b'{"content":{"role":"model","parts":[{"text":"Adding music."}]}}\n'
        b'{"content":{"parts":[{"text":"Adding music."}]}}\n'
        b'{"turnComplete":true}',
        b'{"content":{"parts":[{"functionCall":{"name":"add_bgm","args":{}}}]}}\n'
        b'{"content":{"parts":[{"functionResponse":{"name":"add_bgm","response":{}}}]}}',
        b'{"errorCode":"RESOURCE_EXHAUSTED","errorMessage":"quota"}',
        b'{"error":{"code":1e19,"message":"m"}}\n{"error_code":-1e300}',
        b'{"content":{"parts":[{"text":"t","thought":true},{"text":"One."}]}}\n'
        b'{"content":{"parts":[{"text":"Two."}]}}\n'
        b'{"content":{"parts":[{"text":"One.\\n\\nTwo."}]}}',
        b'ping\n\n   \n[0,0,0]',
    ]
    s["envelope"] = [
        b"\x00" + j({"code": 0, "data": {"available": 5}}),
        b"\x00" + j({"code": 1e19, "msg": "m"}),
        b"\x00" + b'{"code":"12abc"}',
        b"\x05",                                  # 401, empty body
        b"\x0d",                                  # 502, empty body
        b"\x0d<html><title>502 Bad Gateway</title></html>",
        b"\x0b" + j({"code": 429, "message": "slow"}),
        b"\x06" + j({"code": 2001, "msg": "credits", "data": {"need": 5}}),
        b"\x00" + j({"available": 1}),
        b"\x00" + b"<title>unterminated",
    ]
    s["timeline"] = [
        j(DRAFT), j({"draft": json.dumps(DRAFT)}), j({"t": []}),
        j({"d": 1e19, "t": [{"tt": 99, "sg": [{"d": -5, "m": {}}]}]}),
        j({"v": 1, "d": 0, "t": [[0, 0, "x", [["a", 0, 10, -1, 0]]]]}),
        j({"v": 1, "d": 1e300, "t": [[9, 0, None, []]]}),
        j({"tracks": [{"type": "audio", "segments": [
            {"start": "100", "end": "50", "volume": "nan"}]}]}),
    ]
    s["frontmatter"] = [
        b"---\nname: nemo-video\nversion: 1.0.0\nmetadata:\n  apiDomain: https://x\n"
        b"  list:\n    - a\n    - 'b c'\n---\nbody\n",
        b"---\nname: \"q\\u00e9\"\nx: |\n  block\n  text\n---\n",
        b"---\na: [1, 2, {b: c}]\n# comment\nkey: >\n  folded\n---",
        b"---\n\t\t:\n---", b"no frontmatter", b"---\n",
    ]
    lines = fixture("gui_corpus.tsv").decode().splitlines()
    gui = [l.split("\t")[2].encode() for l in lines
           if l and not l.startswith("#") and l.count("\t") >= 2][:12]
    gui += [b"Click " + b"*" * 200 + b"Export" + b"*" * 200,
            "点击右上角的「导出」按钮即可下载".encode(),
            b"Click the `export` link: https://x.y/click-export",
            b"\xe4\xb8 click \xff export"]
    s["gui"] = gui
    s["intent"] = [b"export the video", b"how many credits do I have",
                   b"show me the timeline", b"upload my clip",
                   "导出视频".encode(), "帮我加背景音乐".encode(),
                   b"don't export yet, add music", b""]
    s["header"] = [
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Content-Length: 42\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/2 429\r\nRetry-After: 7\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nHTTP/1.1 500 Forged: yes\r\n\r\n\x01\n"
        b"HTTP/1.1 302 Trailer\r\n",
        b"HTTP/1.1 2000\r\nContent-Length: 99999999999999999999\r\n",
        b"HTTP/", b"content-length:\r\n",
    ]
    s["json"] = [j(DRAFT), b"[" * 70 + b"]" * 70, b'["[[[\\"", 1]',
                 b"[" + b"0," * 1000 + b"0]", b'{"a":"\\u0000"}', b"1e999"]
    s["filecheck"] = [
        b"\x00" + fixture("media", "sample.mp4"),
        b"\x06" + fixture("media", "sample.png"),
        b"\x05\xff\xd8\xff\xe0\x00\x10JFIF",
        b"\x07GIF89a\x01\x00\x01\x00",
        b"\x08RIFF\x10\x00\x00\x00WEBPVP8 ",
        b"\x0aRIFF\x10\x00\x00\x00WAVEfmt ",
        b"\x09ID3\x04\x00\x00\x00\x00\x00\x00",
        b"\x03\x1a\x45\xdf\xa3",
        b"\x00#   ftyp\necho owned\n",
        b"\x0d hello",
    ]
    mp4 = fixture("sample.mp4")
    s["mp4"] = [
        b"\x00" + mp4, b"\x05" + mp4[:40], b"\x09" + mp4 + b"\x00" * 7,
        b"\x01" + b"#   ftyp\necho owned\n",
        b"\x02\x00\x00\x00\x10ftypisom\x00\x00\x00\x00"
        b"\x00\x00\x00\x01moov" + b"\x00" * 8 + b"\x00" * 8,
        b"\x03\x00\x00\x00\x10ftypisom\x00\x00\x00\x00"
        b"\x00\x00\x00\x00moov",
    ]
    s["render"] = [
        j({"taskId": "r", "status": "pending", "progress": 0}),
        j({"status": "processing", "progress": 45}),
        j({"status": "completed", "progress": 100,
           "output": {"url": "https://cdn.x/a.mp4", "size": 123456,
                      "duration_ms": 1000}}),
        j({"status": "failed", "error": "GPU melted"}),
        j({"render": {"state": "Rendering", "progress": "nan%"}}),
        b'{"status":"rendering","progress":1e999}',
        j({"status": "rendering", "progress": "1e300%"}),
        j({"output_url": "https://cdn.x/a.mp4", "size": 1e19}),
        j({"id": "render_1", "sessionId": "s", "status": "queued"}),
    ]
    s["token"] = [
        j({"token": "t" * 48, "credits": 100, "expires_in": 604800,
           "expires_at": 1764700000, "user_id": "anon_1"}),
        j({"token": "t", "expires_in": 1e19, "expires_at": -1e300}),
        j({"token": "t", "expires_at": 1764700000000}),
        j({"session_id": "0b5e5a1e-0000-4000-8000-00000000abcd",
           "task_id": "t1", "user_id": "anon_x"}),
        j({"sessionId": 5, "taskId": None}),
        j({"claim_token": "clm_x", "expires_in": 604800}),
        j({"claim_token": "", "expires_in": "nan"}),
    ]
    s["answers"] = [
        j({"files": [{"filename": "video.mp4", "file_type": "video",
                      "cdn_url": "https://cdn.example.com/v.mp4",
                      "duration": 30.5, "width": 1920, "height": 1080},
                     {"filename": "a.mp3", "file_type": "audio"}],
           "session_state_applied": True}),
        j([{"file_id": "f", "name": "n.mp4", "size": 1e19, "type": "video",
            "url": "https://x"}]),
        j({"canvas_config": {"width": 1080, "height": 1920, "ratio": "9:16"}}),
        j({"canvasConfig": {"w": 1e300, "h": -5}}),
        j({"questions": [{"id": "q1", "prompt": "Which style?",
                          "options": ["calm", {"label": "epic"}]}]}),
        j({"question": "Length?", "options": list(range(40))}),
    ]
    return s


def main():
    total = 0
    for target, items in seeds().items():
        d = os.path.join(CORPUS, target)
        os.makedirs(d, exist_ok=True)
        for data in items:
            name = hashlib.sha1(data).hexdigest()[:16]
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
            total += 1
    print(f"{total} seeds in {len(seeds())} corpora", file=sys.stderr)


if __name__ == "__main__":
    main()
