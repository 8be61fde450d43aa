#!/usr/bin/env python3
"""Reference NemoVideo backend for the nemo-mcp tests (Python 3 stdlib only).

It behaves like the API described by the seed documents (quirks included:
error codes inside HTTP 200 envelopes, GUI-flavoured agent text, silent edit
turns, partial + final SSE text) and adds a /_control/ interface so tests can
inject faults and make turns deterministic.  See README.md beside this file.

    python3 tests/backend/refbackend.py [--port 0] [--host 127.0.0.1]
        [--data-dir DIR] [--seed N] [--config JSON] [--verbose]

prints exactly one line "READY http://127.0.0.1:<port>" on stdout.

From Python tests:

    from refbackend import RefBackend
    with RefBackend(seed=1) as rb:
        rb.fault("/run_sse", "drop", after=2)
        ...  # point the client at rb.url
"""

import argparse
import copy
import email.message
import email.utils
import http.client
import json
import os
import random
import re
import secrets
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures")
MB = 1024 * 1024
READ_CHUNK = 256 * 1024
FILE_CHUNK = 64 * 1024
MAX_JSON_BODY = 16 * MB
LOG_JSON_LIMIT = 64 * 1024
LOG_MAX_ENTRIES = 5000
MAX_DRAIN = 8 * 1024 * MB
MAX_PART_HEADER = 16 * 1024
REGISTER_URL = "https://www.nemovideo.ai/register?bind={bind_id}"
CLIENT_ID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                          r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Other NemoVideo skills write "client-<epoch>-<random>" when uuidgen is
# missing, so any visible id is accepted unless client_id_uuid_only is set.
ANY_CLIENT_ID_RE = re.compile(r"^[\x21-\x7e]{1,128}$")
CLAIM_TTL_S = 604800
SAFE_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
ATTRIBUTION_HEADERS = ("X-Skill-Source", "X-Skill-Version", "X-Skill-Platform")

# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------

# extension -> media type (the seeds' accepted list, plus jpeg)
ACCEPTED_TYPES = {
    "mp4": "video", "mov": "video", "avi": "video", "webm": "video",
    "mkv": "video", "jpg": "image", "jpeg": "image", "png": "image",
    "gif": "image", "webp": "image", "mp3": "audio", "wav": "audio",
    "m4a": "audio", "aac": "audio",
}
CONTENT_TYPES = {
    "mp4": "video/mp4", "mov": "video/quicktime", "avi": "video/x-msvideo",
    "webm": "video/webm", "mkv": "video/x-matroska", "jpg": "image/jpeg",
    "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
    "webp": "image/webp", "mp3": "audio/mpeg", "wav": "audio/wav",
    "m4a": "audio/mp4", "aac": "audio/aac",
}

MESSAGES = {
    0: "success",
    400: "bad request",
    401: "unauthorized",
    402: "export is blocked on the free plan: register or upgrade your "
         "subscription tier to unlock export (this is not a credit issue)",
    404: "not found",
    422: "invalid request body",
    429: "rate limited, retry later",
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
    1001: "token expired or invalid",
    1002: "session not found",
    2001: "insufficient credits",
    4001: "unsupported file type; accepted formats: "
          + ", ".join(ACCEPTED_TYPES),
    4002: "file too large: the limit is {limit_mb} MB; "
          "compress or trim the file",
}

DEFAULT_CONFIG = {
    "cost_generate": 10,        # credits per generation turn
    "cost_edit": 2,             # credits per edit turn
    "cost_chat": 2,             # credits per turn that changes nothing
    "initial_credits": 100,     # credits of a new token's account
    "upload_limit_bytes": 500 * MB,
    "render_steps": [33, 66],   # progress of the "rendering" polls
    "fail_next_render": False,  # false, true or an error message
    "retry_after": 30,          # Retry-After of the token rate limit
    "token_rate_limit": True,   # one token per client id per token_ttl_s
    "token_ttl_s": 604800,
    "silent_ratio": 0.3,        # share of edit turns with no text
    "heartbeat_ms": 40,
    "turn_ms": 150,             # the "work" phase of a turn
    "split_writes": True,       # flush events in pieces at odd offsets
    "crlf": True,               # end every third event with CRLF CRLF
    "hang_max_ms": 120000,      # upper bound of a "hang" fault
    "credits_error_link": False,  # True: 2001 data carries register_url
    "client_id_uuid_only": False,  # True: X-Client-Id must be a UUID
    # Answer shapes, one switch for every answer: "current" is the API as
    # NemoVideo's skill v1.9 documents it (user_id and an ISO expires_at
    # in the token answer, user_id in the session answer, render_id in the
    # render start answer, a bare poll answer with pending/processing,
    # data.files[{filename, file_type, cdn_url, ...}] for uploads,
    # canvas_config in the state, now and then a trailing "I encountered a
    # temporary issue" after the reply); "seeds" is the older shape of the
    # seed documents (expires_in and an epoch expires_at, bind_id, ...).
    # Default from the environment (REFBACKEND_SHAPES), else "current".
    "shapes": os.environ.get("REFBACKEND_SHAPES") or "current",
    "render_url": True,         # completed renders carry output.url
    "temporary_issue_ratio": 0.25,  # share of text turns ("current")
}
CONFIG_ALIASES = {"upload_limit_mb": ("upload_limit_bytes", MB)}

FAULT_KINDS = ("status", "code", "rate_limit", "drop", "slow",
               "error_event", "hang")
TURN_MODES = ("text", "silent", "error", "slow", "ask", "heartbeats")

# A question turn ("ask" mode, or a prompt containing ASK_MARKER): the agent
# calls its long-running ask_question tool and the turn ends waiting; the
# session's next prompt is the answer and the agent then does what the
# first prompt asked.
ASK_MARKER = "[ask]"
ASK_QUESTIONS = [{"id": "aspect_ratio",
                  "prompt": "Which aspect ratio should the video use?",
                  "options": ["16:9", "9:16", "1:1"]}]
SHAPES = ("current", "seeds")
# What NemoVideo's agent appends after a normal reply now and then (the
# skill: "ignore a trailing 'I encountered a temporary issue' if prior
# responses were normal").
TEMPORARY_ISSUE = {
    "en": "I encountered a temporary issue. Please try again later.",
    "zh": "我遇到了一个临时问题，请稍后再试。",
}
DEFAULT_CANVAS = {"width": 1920, "height": 1080, "ratio": "16:9"}
# Media facts the "current" upload answer reports per file type.
MEDIA_FACTS = {"video": {"duration": 10.0, "width": 1920, "height": 1080},
               "image": {"width": 1024, "height": 768},
               "audio": {"duration": 30.5}}
RENDER_WORDS = {"current": {"queued": "pending", "rendering": "processing"},
                "seeds": {}}

# Keyword rules of the fake agent: op -> keywords (ASCII ones match at a
# word start, so "animate" matches "animated"; CJK ones match anywhere).
GENERATE_KW = ("animate", "generate", "生成", "动画")
WEAK_GENERATE_KW = ("video", "clip", "视频", "片段")  # only if nothing else
TRIM_KW = ("trim", "cut", "shorter", "shorten", "剪", "缩短")
MUSIC_KW = ("music", "bgm", "soundtrack", "音乐", "配乐")
TEXT_KW = ("title", "text", "caption", "subtitle", "字幕", "标题", "文字")
CAPTION_KW = ("caption", "subtitle", "字幕")
REMOVE_KW = ("remove", "delete", "删除", "去掉", "移除")
OP_ORDER = (("generate", GENERATE_KW), ("trim", TRIM_KW),
            ("music", MUSIC_KW), ("text", TEXT_KW))
REMOVE_TARGETS = (("music", MUSIC_KW), ("text", TEXT_KW),
                  ("video", WEAK_GENERATE_KW))
TOOLS = {"generate": "generate_video", "trim": "trim_clip",
         "music": "add_bgm", "text": "add_text", "remove": "remove_element"}
MUSIC_STYLES = (
    (("lo-fi", "lofi"), "Lo-fi"),
    (("upbeat", "happy", "energetic", "欢快"), "Upbeat"),
    (("calm", "relax", "piano", "轻松", "舒缓"), "Calm Piano"),
    (("epic", "cinematic", "史诗"), "Epic Cinematic"),
    (("jazz", "爵士"), "Jazz"),
)
QUIET_KW = ("quiet", "soft", "low", "轻")
LOUD_KW = ("loud", "大声")
REFERS_TO_UPLOAD_KW = ("this", "these", "uploaded", "my ", "这", "上传")
STOP_WORDS = set("""a an the this that these those my me i you it its into
to of with and or for in on at by from please can could would generate
generating animate make create add put video videos clip clips image images
photo photos picture second seconds sec secs minute minutes s smooth motion
cinematic short new one some""".split())
DURATION_RE = re.compile(
    r"(\d+(?:\.\d+)?)\s*-?\s*(minutes?|mins?|分钟|seconds?|secs?|s\b|秒)",
    re.I)
QUOTE_RE = re.compile(r'"([^"]+)"|“([^”]+)”|「([^」]+)」|『([^』]+)』|‘([^’]+)’')

# The agent talks as if a GUI existed (the seeds warn about exactly this).
PHRASES = {
    "en": {
        "generate": 'Done! I generated a {secs}-second clip "{label}" and '
                    "placed it on the video track. Open the timeline panel "
                    "to preview.",
        "music": 'Added background music "{label}" at {pct}% volume. You can '
                 "preview in timeline.",
        "text": 'Added the text "{text}" to the {track} track. Drag and drop '
                "the clip onto the track to move it.",
        "trim": "Trimmed the video to {secs}s. You can preview in timeline.",
        "trim_noop": "There is nothing to trim yet. Drag and drop a clip "
                     "onto the track first.",
        "remove": "Removed {what}. Open the timeline panel to check the "
                  "result.",
        "remove_noop": "There was nothing to remove. Open the timeline panel "
                       "to see your tracks.",
        "chat": "I can generate clips, add music, titles and captions, or "
                "trim your video. Click the Generate button to start.",
        "closing": "Click the Export button to download your video.",
    },
    "zh": {
        "generate": "完成！已生成{secs}秒的视频片段「{label}」并放到视频轨道上。"
                    "打开时间线面板预览。",
        "music": "已添加背景音乐「{label}」，音量{pct}%。可以在时间线中预览。",
        "text": "已在{track}轨道添加文字「{text}」。拖拽片段到轨道上可以调整位置。",
        "trim": "已将视频剪辑为{secs}秒。打开时间线面板预览。",
        "trim_noop": "还没有可以剪辑的片段。请先拖拽片段到轨道上。",
        "remove": "已删除{what}。打开时间线面板查看结果。",
        "remove_noop": "没有可删除的内容。打开时间线面板查看轨道。",
        "chat": "我可以生成视频片段、添加音乐、标题和字幕，或剪辑视频。点击生成按钮开始。",
        "closing": "点击导出按钮下载视频。",
    },
}
REMOVED_WHAT = {
    "en": {"music": "the background music", "text": "the text track",
           "video": "the last video clip", "track": "the last track"},
    "zh": {"music": "背景音乐", "text": "文字轨道", "video": "最后一个视频片段",
           "track": "最后一条轨道"},
}
TRACK_NAMES_ZH = {"Title": "标题", "Captions": "字幕"}
DEFAULT_TEXT = {"en": "My Video", "zh": "我的视频"}
DEFAULT_LABEL = {"en": "generated clip", "zh": "生成片段"}


class ClientGone(Exception):
    """The client closed the connection."""


class Dropped(Exception):
    """A drop fault: close the connection abruptly."""


class StreamEnded(Exception):
    """An error event was sent: end the SSE stream cleanly."""


class BadRequest(Exception):
    def __init__(self, msg, status=400, code=None):
        super().__init__(msg)
        self.status, self.code, self.msg = status, code or status, msg


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------

def envelope(code=0, msg=None, data=None):
    return {"code": code, "msg": msg or MESSAGES.get(code, "error"),
            "data": data}


def ext_of(name):
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[1].lower() if "." in base else ""


def secs(ms):
    return "%g" % (ms / 1000.0)


def kw_match(low, kw):
    if kw.isascii():
        return re.search(r"(?<![a-z0-9])" + re.escape(kw), low) is not None
    return kw in low


def any_kw(low, kws):
    return any(kw_match(low, k) for k in kws)


def is_chinese(text):
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def box(kind, payload):
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def minimal_mp4():
    """A structurally valid ISO BMFF file (ftyp + moov/mvhd + mdat)."""
    ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0,
                         0x40000000)
    mvhd = box(b"mvhd", struct.pack(">B3xIIII", 0, 0, 0, 1000, 1000)
               + struct.pack(">IH10x", 0x00010000, 0x0100) + matrix
               + b"\0" * 24 + struct.pack(">I", 2))
    return ftyp + box(b"moov", mvhd) + box(b"mdat", b"")


def load_fixture(name, fallback):
    try:
        with open(os.path.join(FIXTURES, name), "rb") as fh:
            return fh.read()
    except OSError:
        return fallback() if fallback else None


def parse_sse(raw):
    """Parse an SSE body per the HTML spec (LF, CRLF or CR line endings).

    Returns a list of ("comment", text) and ("data", text) items; a
    ("data", "") item is an empty data: keep-alive.  A trailing event that
    was not terminated by a blank line is dropped, as the spec says."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    out, data = [], None
    for line in re.split(r"\r\n|\n|\r", raw):
        if line == "":
            if data is not None:
                out.append(("data", "\n".join(data)))
            data = None
        elif line.startswith(":"):
            out.append(("comment", line[1:].strip()))
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                data = (data or []) + [value]
    return out


def sse_events(raw):
    """The JSON objects of an SSE body (keep-alives and comments skipped)."""
    return [json.loads(v) for k, v in parse_sse(raw) if k == "data" and v]


# --------------------------------------------------------------------------
# Draft (timeline) helpers: t tracks, tt type, sg segments, d ms, m metadata
# --------------------------------------------------------------------------

def new_draft():
    return {"d": 0, "t": []}


def tracks(draft):
    return [t for t in draft.get("t", []) if isinstance(t, dict)]


def segments(track):
    sg = track.get("sg")
    return [s for s in sg if isinstance(s, dict)] if isinstance(sg, list) \
        else []


def seg_spans(track):
    """(start, end, segment) with absent starts placed one after another."""
    cursor, out = 0, []
    for seg in segments(track):
        start = seg.get("s", cursor)
        start = start if isinstance(start, (int, float)) else cursor
        dur = seg.get("d", 0) if isinstance(seg.get("d"), (int, float)) else 0
        out.append((start, start + dur, seg))
        cursor = start + dur
    return out


def track_end(track):
    spans = seg_spans(track)
    return max((e for _, e, _ in spans), default=0)


def track_name(track):
    m = track.get("m")
    return m.get("name") if isinstance(m, dict) else None


def content_extent(draft):
    """End of the non-audio content (what BGM should cover)."""
    return max((track_end(t) for t in tracks(draft) if t.get("tt") != 1),
               default=0)


def update_duration(draft):
    draft["d"] = int(max((track_end(t) for t in tracks(draft)), default=0))


def fit_bgm(draft):
    extent = content_extent(draft)
    if extent <= 0:
        return
    for tr in tracks(draft):
        sg = segments(tr)
        if tr.get("tt") == 1 and track_name(tr) == "BGM" and len(sg) == 1:
            sg[0]["s"], sg[0]["d"] = 0, int(extent)


def ensure_track(draft, tt, name, front=False):
    for tr in tracks(draft):
        if tr.get("tt") == tt and (tt == 0 or track_name(tr) == name):
            if not isinstance(tr.get("sg"), list):
                tr["sg"] = []
            return tr
    tr = {"tt": tt, "m": {"name": name}, "sg": []}
    draft["t"].insert(0, tr) if front else draft["t"].append(tr)
    return tr


def remove_tracks(draft, pred):
    before = len(draft["t"])
    draft["t"] = [t for t in draft["t"] if not (isinstance(t, dict)
                                                and pred(t))]
    return before - len(draft["t"])


def clip_draft(draft, target):
    for tr in tracks(draft):
        kept = []
        for start, end, seg in seg_spans(tr):
            if start >= target:
                continue
            if end > target:
                seg["d"] = int(target - start)
            kept.append(seg)
        tr["sg"] = kept


def sane_draft(sess):
    d = sess.get("draft")
    if not isinstance(d, dict) or not isinstance(d.get("t"), list):
        sess["draft"] = d = new_draft()
    return d


# --------------------------------------------------------------------------
# The fake agent: prompt -> ops -> draft changes -> GUI-flavoured text
# --------------------------------------------------------------------------

def parse_duration(text):
    m = DURATION_RE.search(text)
    if not m:
        return None
    scale = 60000 if m.group(2).lower().startswith(("m", "分")) else 1000
    return int(min(max(float(m.group(1)) * scale, 500), 600000))


def parse_volume(low):
    m = re.search(r"(\d{1,3})\s*%", low)
    if m:
        return round(min(int(m.group(1)), 100) / 100.0, 2)
    m = re.search(r"volume\s*(?:to\s*|of\s*|=\s*)?(0?\.\d+|1(?:\.0+)?)\b", low)
    if m:
        return round(float(m.group(1)), 2)
    if any_kw(low, QUIET_KW):
        return 0.2
    if any_kw(low, LOUD_KW):
        return 0.8
    return 0.35


def music_style(low):
    for kws, label in MUSIC_STYLES:
        if any_kw(low, kws):
            return label
    return "Lo-fi"


def quoted_text(prompt, lang):
    m = QUOTE_RE.search(prompt)
    if m:
        return next(g for g in m.groups() if g)
    return DEFAULT_TEXT[lang]


def prompt_label(prompt, lang):
    if lang == "zh":
        rest = re.sub(r"[\d\s\W_a-zA-Z]|生成|视频|动画|一个|一段|的|秒|把|这张|"
                      r"图片|片段|成|为|将", "", prompt)
        return rest[:6] or DEFAULT_LABEL["zh"]
    head = re.split(r"\s(?:with|and|plus|then)\s|[,;.]\s", prompt.lower())[0]
    words = [w for w in re.findall(r"[a-z][a-z'-]*", head)
             if w not in STOP_WORDS and not w.endswith("-second")]
    return " ".join(words[:3]) or DEFAULT_LABEL["en"]


def turn_language(prompt, session_lang):
    if is_chinese(prompt):
        return "zh"
    return "zh" if (session_lang or "").lower().startswith("zh") else "en"


def plan_ops(prompt, sess, lang):
    """Keyword routing. A remove turn only removes (other keywords name the
    target); otherwise generate, trim, music and text apply in that order.
    "video"/"clip" alone means generate only when nothing else matched."""
    low = prompt.lower()
    if any_kw(low, REMOVE_KW):
        targets = [t for t, kws in REMOVE_TARGETS if any_kw(low, kws)]
        return [make_op("remove", {"targets": targets})]
    hits = [op for op, kws in OP_ORDER if any_kw(low, kws)]
    if not hits and any_kw(low, WEAK_GENERATE_KW):
        hits = ["generate"]
    return [make_op(op, op_args(op, prompt, low, sess, lang)) for op in hits]


def make_op(kind, args):
    return {"kind": kind, "tool": TOOLS[kind], "args": args,
            "call_id": "adk-" + str(uuid.uuid4())}


def latest_upload(sess):
    ups = [u for u in sess["uploads"] if u["type"] in ("image", "video")]
    return ups[-1] if ups else None


def op_args(op, prompt, low, sess, lang):
    if op == "generate":
        args = {"prompt": prompt,
                "duration_ms": parse_duration(prompt) or 5000,
                "label": prompt_label(prompt, lang)}
        up = latest_upload(sess)
        if up:
            args["source_file_id"] = up["file_id"]
            if any_kw(low, REFERS_TO_UPLOAD_KW) or \
                    args["label"] == DEFAULT_LABEL[lang]:
                args["label"] = os.path.splitext(up["name"])[0]
        return args
    if op == "trim":
        target = parse_duration(prompt)
        return {"target_ms": target} if target else {"ratio": 0.8}
    if op == "music":
        return {"style": music_style(low), "volume": parse_volume(low)}
    return {"text": quoted_text(prompt, lang),
            "track": "Captions" if any_kw(low, CAPTION_KW) else "Title"}


def compose_text(lang, results):
    """results: [(phrase_key, params)]; empty means a chat turn."""
    table = PHRASES[lang]
    if not results:
        return table["chat"]
    parts = []
    for key, params in results:
        params = dict(params)
        if key == "remove":
            params["what"] = (", " if lang == "en" else "、").join(
                REMOVED_WHAT[lang][w] for w in params["what"])
        if key == "text" and lang == "zh":
            params["track"] = TRACK_NAMES_ZH.get(params["track"],
                                                 params["track"])
        parts.append(table[key].format(**params))
    return (" " if lang == "en" else "").join(parts + [table["closing"]])


def split_text(text, n=3):
    size = max(1, -(-len(text) // n))
    return [text[i:i + size] for i in range(0, len(text), size)]


def adk_event(inv, parts, role="model", **extra):
    ev = {"id": str(uuid.uuid4()), "invocationId": inv,
          "author": "nemo_agent", "timestamp": round(time.time(), 6),
          "content": {"role": role, "parts": parts}}
    ev.update(extra)
    ev["actions"] = {"stateDelta": {}, "artifactDelta": {},
                     "requestedAuthConfigs": {}}
    return ev


# --------------------------------------------------------------------------
# Request body reading (Content-Length or chunked) and multipart streaming
# --------------------------------------------------------------------------

class BodyReader:
    def __init__(self, rfile, headers):
        self.rfile = rfile
        self.chunked = "chunked" in (headers.get("Transfer-Encoding")
                                     or "").lower()
        self.remaining, self.chunk_left, self.nread = 0, 0, 0
        cl = headers.get("Content-Length")
        if not self.chunked and cl:
            if not cl.strip().isdigit():
                raise BadRequest("invalid Content-Length")
            self.remaining = int(cl)
        self.done = not self.chunked and self.remaining == 0

    def read(self, n=READ_CHUNK):
        if self.done:
            return b""
        try:
            data = self._read_chunked(n) if self.chunked else \
                self._read_plain(n)
        except (OSError, ValueError) as e:
            raise ClientGone() from e
        self.nread += len(data)
        return data

    def _read_plain(self, n):
        data = self.rfile.read(min(n, self.remaining))
        if not data:
            raise ClientGone()
        self.remaining -= len(data)
        self.done = self.remaining == 0
        return data

    def _read_chunked(self, n):
        if self.chunk_left == 0:
            line = self.rfile.readline(1024)
            if not line:
                raise ClientGone()
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                for _ in range(100):  # trailers until the blank line
                    if self.rfile.readline(8192) in (b"\r\n", b"\n", b""):
                        break
                self.done = True
                return b""
            self.chunk_left = size
        data = self.rfile.read(min(n, self.chunk_left))
        if not data:
            raise ClientGone()
        self.chunk_left -= len(data)
        if self.chunk_left == 0:
            self.rfile.readline(8)
        return data

    def read_all(self, limit=MAX_JSON_BODY):
        parts = []
        while not self.done:
            parts.append(self.read())
            if self.nread > limit:
                raise BadRequest("request body too large", 413)
        return b"".join(parts)

    def drain(self):
        while not self.done and self.nread <= MAX_DRAIN:
            self.read()
        return self.done


def iter_multipart(read, boundary):
    """Stream a multipart body: yields ("part", raw_headers),
    ("data", bytes)... ("end_part", None) for each part. Buffers at most one
    read plus the delimiter length."""
    delim = b"\r\n--" + boundary
    keep = len(delim) + 4
    buf, eof = b"\r\n", False

    def fill():
        nonlocal buf, eof
        chunk = read()
        eof = not chunk
        buf += chunk

    while True:  # preamble
        i = buf.find(delim)
        if i >= 0:
            buf = buf[i + len(delim):]
            break
        if eof:
            raise BadRequest("malformed multipart body: no boundary")
        buf = buf[-keep:]
        fill()
    for _ in range(1 << 30):
        while len(buf) < 2 and not eof:
            fill()
        if buf.startswith(b"--"):
            return
        while True:
            line_end = buf.find(b"\r\n")
            hdr_end = buf.find(b"\r\n\r\n", max(line_end, 0))
            if line_end >= 0 and hdr_end >= 0:
                break
            if eof or len(buf) > MAX_PART_HEADER:
                raise BadRequest("malformed multipart body: bad part header")
            fill()
        yield "part", buf[line_end + 2:hdr_end] if hdr_end > line_end else b""
        buf = buf[hdr_end + 4:]
        while True:
            i = buf.find(delim)
            if i >= 0:
                if i:
                    yield "data", buf[:i]
                buf = buf[i + len(delim):]
                break
            if len(buf) > keep:
                yield "data", buf[:-keep]
                buf = buf[-keep:]
            if eof:
                raise BadRequest("malformed multipart body: truncated")
            fill()
        yield "end_part", None


def part_info(raw_headers):
    msg = email.message.Message()
    for line in raw_headers.decode("utf-8", "replace").split("\r\n"):
        if ":" in line:
            k, v = line.split(":", 1)
            msg[k.strip()] = v.strip()
    name = msg.get_param("name", header="content-disposition")
    name = email.utils.collapse_rfc2231_value(name) if name else None
    filename = msg.get_filename()
    if filename:
        filename = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return name, filename, msg.get("Content-Type")


# --------------------------------------------------------------------------
# The backend state (no HTTP in here)
# --------------------------------------------------------------------------

class Backend:
    def __init__(self, seed=0, data_dir=None, verbose=False):
        self.seed, self.verbose = seed, verbose
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="refbackend-")
        os.makedirs(self.data_dir, exist_ok=True)
        self.lock = threading.RLock()
        self.log_cond = threading.Condition(self.lock)
        self.stopping = threading.Event()
        self.hang_release = threading.Event()
        self.base_url = ""
        self.sample_mp4 = load_fixture("sample.mp4", minimal_mp4)
        self.sample_png = load_fixture("sample.png", None)
        self._reset_state()

    # -- lifecycle ---------------------------------------------------------
    def _reset_state(self):
        self.config = copy.deepcopy(DEFAULT_CONFIG)
        self.rng = random.Random(self.seed)
        self.id_rng = random.Random("ids-%s" % self.seed)
        self.issue_rng = random.Random("issue-%s" % self.seed)
        self.tokens, self.clients, self.sessions = {}, {}, {}
        self.renders, self.files, self.claims = {}, {}, {}
        self.render_alias = {}
        self.faults, self.turn_scripts, self.log = [], [], []
        self.seq = 0
        self.release_hangs()

    def reset(self):
        with self.lock:
            for path in self.files.values():
                if path:
                    try:
                        os.unlink(path)
                    except OSError:
                        pass
            self._reset_state()

    def release_hangs(self):
        old, self.hang_release = self.hang_release, threading.Event()
        old.set()

    def close(self):
        self.stopping.set()
        with self.lock:
            self.release_hangs()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def sleep(self, ms):
        if ms > 0:
            self.stopping.wait(ms / 1000.0)

    def cfg(self, key):
        with self.lock:
            return copy.deepcopy(self.config[key])

    def new_id(self, prefix, nbytes=6):
        with self.lock:
            return prefix + "%0*x" % (nbytes * 2,
                                      self.id_rng.getrandbits(nbytes * 8))

    # -- config ------------------------------------------------------------
    def set_config(self, changes):
        if not isinstance(changes, dict):
            raise BadRequest("config body must be a JSON object")
        with self.lock:
            new = dict(self.config)
            for key, value in changes.items():
                if key in CONFIG_ALIASES:
                    key, scale = CONFIG_ALIASES[key]
                    value = value * scale
                if key not in DEFAULT_CONFIG:
                    raise BadRequest("unknown config key %r; known: %s"
                                     % (key, ", ".join(DEFAULT_CONFIG)))
                new[key] = self._coerce(key, value)
            self.config = new
            return copy.deepcopy(new)

    @staticmethod
    def _coerce(key, value):
        default = DEFAULT_CONFIG[key]
        if key == "fail_next_render":
            return value if isinstance(value, (bool, str)) else bool(value)
        if key == "shapes":
            if value not in SHAPES:
                raise BadRequest("shapes must be one of: " + ", ".join(SHAPES))
            return value
        if isinstance(default, bool):
            return bool(value)
        if isinstance(default, list):
            if not isinstance(value, list) or not all(
                    isinstance(v, (int, float)) for v in value):
                raise BadRequest("%s must be a list of numbers" % key)
            return [int(v) for v in value]
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise BadRequest("%s must be a number" % key)
        return type(default)(value)

    # -- request log -------------------------------------------------------
    def log_request(self, method, url, headers):
        with self.lock:
            self.seq += 1
            entry = {
                "seq": self.seq, "time": time.time(), "method": method,
                "path": url.path, "raw_query": url.query,
                "query": parse_qs(url.query, keep_blank_values=True),
                "headers": [[k, v] for k, v in headers.items()],
                "headers_lower": {k.lower(): v for k, v in headers.items()},
                "body_size": 0, "json": None, "status": None, "code": None,
                "fault": None, "done": False,
            }
            self.log.append(entry)
            del self.log[:-LOG_MAX_ENTRIES]
            self.log_cond.notify_all()
            return entry

    def update_entry(self, entry, **fields):
        if entry is None:
            return
        with self.lock:
            entry.update(fields)
            self.log_cond.notify_all()

    def query_log(self, path=None, since=0, min_count=0, timeout_ms=0,
                  done=False):
        deadline = time.monotonic() + min(timeout_ms, 60000) / 1000.0
        with self.lock:
            while True:
                found = [e for e in self.log if e["seq"] > since and
                         (not path or e["path"].startswith(path)) and
                         (e["done"] or not done)]
                left = deadline - time.monotonic()
                if len(found) >= min_count or left <= 0:
                    return json.loads(json.dumps(found))
                self.log_cond.wait(left)

    # -- faults and scripted turns -----------------------------------------
    def add_fault(self, spec):
        if not isinstance(spec, dict) or spec.get("kind") not in FAULT_KINDS:
            raise BadRequest("fault kind must be one of: "
                             + ", ".join(FAULT_KINDS))
        spec = dict(spec)
        spec.setdefault("path", "/")
        spec["count"] = int(spec.get("count", 1))
        with self.lock:
            self.faults.append(spec)
            return copy.deepcopy(self.faults)

    def clear_faults(self):
        with self.lock:
            self.faults = []
            self.release_hangs()

    def take_fault(self, method, path):
        with self.lock:
            for f in self.faults:
                if not path.startswith(f["path"]):
                    continue
                if f.get("method") and f["method"].upper() != method:
                    continue
                if f["count"] > 0:
                    f["count"] -= 1
                    if f["count"] == 0:
                        self.faults.remove(f)
                return dict(f)
        return None

    def add_turn_script(self, spec):
        if not isinstance(spec, dict):
            raise BadRequest("next_turn body must be a JSON object")
        mode = spec.get("mode", "text")
        if mode not in TURN_MODES:
            raise BadRequest("mode must be one of: " + ", ".join(TURN_MODES))
        events = spec.get("events")
        if isinstance(events, str):
            spec["events"] = [events]
        elif events is not None and not (isinstance(events, list) and all(
                isinstance(e, str) for e in events)):
            raise BadRequest("events must be a string or a list of strings")
        with self.lock:
            self.turn_scripts.append(dict(spec, mode=mode))
            return len(self.turn_scripts)

    def take_turn_script(self, sid):
        with self.lock:
            for s in self.turn_scripts:
                if s.get("session_id") in (None, sid):
                    self.turn_scripts.remove(s)
                    return s
        return None

    # -- tokens and credits ------------------------------------------------
    def issue_token(self, client_id=None, credits=None, token=None):
        """A new token record, or None when the client id is rate limited."""
        with self.lock:
            now = time.time()
            ttl = self.config["token_ttl_s"]
            last = self.clients.get(client_id)
            if client_id is not None and last is not None and \
                    self.config["token_rate_limit"] and now - last < ttl:
                return None
            avail = self.config["initial_credits"] if credits is None \
                else int(credits)
            rec = {"token": token or secrets.token_urlsafe(36),
                   "client_id": client_id, "issued_at": now,
                   "expires_at": int(now + ttl), "expired": False,
                   "bind_id": self.new_id("anon_"),
                   "account": {"available": avail, "frozen": 0}}
            rec["user_id"] = rec["bind_id"]   # the anonymous account's id
            self.tokens[rec["token"]] = rec
            if client_id is not None:
                self.clients[client_id] = now
            return rec

    def valid_token(self, token):
        with self.lock:
            rec = self.tokens.get(token)
            if not rec or rec["expired"] or time.time() >= rec["expires_at"]:
                return None
            return rec

    def expire_tokens(self, token=None):
        with self.lock:
            recs = [self.tokens[token]] if token in self.tokens else \
                (list(self.tokens.values()) if token is None else [])
            if token is not None and not recs:
                raise BadRequest("unknown token", 404)
            for r in recs:
                r["expired"] = True
            return len(recs)

    def set_credits(self, body):
        token = body.get("token")
        with self.lock:
            recs = list(self.tokens.values()) if token is None else \
                [self.tokens[token]] if token in self.tokens else None
            if recs is None:
                raise BadRequest("unknown token", 404)
            for r in recs:
                for key in ("available", "frozen"):
                    if key in body:
                        r["account"][key] = int(body[key])
            return len(recs)

    @staticmethod
    def balance(rec):
        a = rec["account"]
        return {"available": a["available"], "frozen": a["frozen"],
                "total": a["available"] + a["frozen"]}

    def freeze(self, rec, cost):
        with self.lock:
            acct = rec["account"]
            if acct["available"] < cost:
                return False
            acct["available"] -= cost
            acct["frozen"] += cost
            return True

    def settle(self, rec, cost, charge):
        with self.lock:
            acct = rec["account"]
            acct["frozen"] -= cost
            if not charge:
                acct["available"] += cost

    # -- sessions ----------------------------------------------------------
    def create_session(self, rec, language, sid=None):
        with self.lock:
            sid = sid or str(uuid.UUID(
                int=self.id_rng.getrandbits(128), version=4))
            sess = {"session_id": sid, "task_id": self.new_id("task_"),
                    "bind_id": rec["bind_id"] if rec else
                    self.new_id("anon_"),
                    "language": language, "draft": new_draft(),
                    "video_infos": [], "generated_media": [], "uploads": [],
                    "turns": 0, "lost": False, "created_at": time.time()}
            self.sessions[sid] = sess
            return sess

    def get_session(self, sid):
        with self.lock:
            sess = self.sessions.get(sid)
            return None if sess is None or sess["lost"] else sess

    def lose_sessions(self, sid=None):
        with self.lock:
            if sid is not None and sid not in self.sessions:
                raise BadRequest("unknown session", 404)
            for s in self.sessions.values():
                if sid is None or s["session_id"] == sid:
                    s["lost"] = True
            return 1 if sid else len(self.sessions)

    def set_state(self, body):
        sid = body.get("session_id")
        if not isinstance(sid, str) or not sid:
            raise BadRequest("session_id is required")
        with self.lock:
            sess = self.sessions.get(sid) or self.create_session(
                None, body.get("language", "en"), sid)
            sess["lost"] = False
            for key in ("draft", "video_infos", "generated_media",
                        "language", "canvas_config"):
                if key in body:
                    sess[key] = copy.deepcopy(body[key])
            return json.loads(json.dumps(sess))

    def state_view(self, sess):
        with self.lock:
            state = {"draft": sess["draft"],
                     "video_infos": sess["video_infos"],
                     "generated_media": sess["generated_media"]}
            if self.config["shapes"] == "current":
                state["canvas_config"] = sess.get("canvas_config",
                                                  DEFAULT_CANVAS)
            return {"session_id": sess["session_id"],
                    "bind_id": sess["bind_id"], "user_id": sess["bind_id"],
                    "state": json.loads(json.dumps(state))}

    # -- uploads and served files -------------------------------------------
    def add_upload(self, sess, name, size, path=None, url=None, fid=None):
        ext = ext_of(name)
        fid = fid or self.new_id("file_")
        with self.lock:
            if path:
                served = fid + ("." + ext if ext else "")
                self.files[served] = path
                url = "%s/files/%s" % (self.base_url, served)
            item = {"file_id": fid, "name": name, "size": size,
                    "type": ACCEPTED_TYPES.get(ext, "video"), "url": url}
            sess["uploads"].append(dict(item, source_type="url"
                                        if path is None else "file"))
            sess["video_infos"].append(dict(item, origin="upload"))
            return item

    def upload_answer(self, items):
        """The upload answer's data for these add_upload() items."""
        with self.lock:
            if self.config["shapes"] == "seeds":
                return {"files": items}
            files = []
            for it in items:
                f = {"filename": it["name"], "file_type": it["type"],
                     "cdn_url": it["url"]}
                f.update(MEDIA_FACTS.get(it["type"], {}))
                files.append(f)
            return {"files": files, "session_state_applied": True}

    def file_source(self, name):
        """(bytes or path, content type) for /files/<name>, or None."""
        with self.lock:
            known = name in self.files
            path = self.files.get(name)
        ext = ext_of(name)
        ctype = CONTENT_TYPES.get(ext, "application/octet-stream")
        if path:
            return path, ctype
        if name == "sample.png" and self.sample_png:
            return self.sample_png, ctype
        if known or name == "sample.mp4":
            return self.sample_mp4, "video/mp4"
        return None

    # -- turns -------------------------------------------------------------
    def turn_cost(self, ops):
        key = "cost_chat" if not ops else "cost_generate" if any(
            o["kind"] == "generate" for o in ops) else "cost_edit"
        return self.cfg(key)

    def decide_mode(self, script, ops):
        if script:
            return script["mode"]
        is_edit = ops and not any(o["kind"] == "generate" for o in ops)
        with self.lock:
            if is_edit and self.rng.random() < self.config["silent_ratio"]:
                return "silent"
        return "text"

    def temporary_issue(self, turn):
        """The trailing "temporary issue" text for this turn, or None:
        scripted turns ask for it ("temporary_issue": true), others get it
        now and then in the "current" shapes."""
        s = turn["script"]
        with self.lock:
            if "temporary_issue" in s:
                on = bool(s["temporary_issue"])
            elif s or self.config["shapes"] != "current":
                on = False
            else:
                on = self.issue_rng.random() < \
                    self.config["temporary_issue_ratio"]
        turn["temporary_issue"] = on
        return TEMPORARY_ISSUE[turn["lang"]] if on else None

    def apply_ops(self, sess, ops):
        """Apply the ops to the session's draft: [(op, response, phrase)]."""
        with self.lock:
            out = []
            for op in ops:
                draft = sane_draft(sess)
                resp, key, params = getattr(self, "_op_" + op["kind"])(
                    sess, draft, op["args"])
                update_duration(draft)
                out.append((op, resp, (key, params)))
            sess["turns"] += 1
            return out

    def _op_generate(self, sess, draft, args):
        dur, mid = args["duration_ms"], self.new_id("gen_")
        url = "%s/files/%s.mp4" % (self.base_url, mid)
        self.files[mid + ".mp4"] = None
        track = ensure_track(draft, 0, "Video", front=True)
        track["sg"].append({"s": int(track_end(track)), "d": dur,
                            "m": {"label": args["label"], "src": mid}})
        fit_bgm(draft)
        media = {"media_id": mid, "type": "video", "url": url,
                 "prompt": args["prompt"], "duration_ms": dur}
        if args.get("source_file_id"):
            media["source_file_id"] = args["source_file_id"]
        sess["generated_media"].append(media)
        sess["video_infos"].append({
            "file_id": mid, "name": mid + ".mp4", "type": "video",
            "url": url, "duration_ms": dur, "width": 1080, "height": 1920,
            "origin": "generated"})
        return ({"status": "success", "media_id": mid, "url": url,
                 "duration_ms": dur}, "generate",
                {"secs": secs(dur), "label": args["label"]})

    def _op_music(self, sess, draft, args):
        remove_tracks(draft, lambda t: t.get("tt") == 1 and
                      track_name(t) == "BGM")
        extent = content_extent(draft) or 10000
        draft["t"].append({"tt": 1, "m": {"name": "BGM"}, "sg": [{
            "s": 0, "d": int(extent),
            "m": {"label": args["style"], "volume": args["volume"]}}]})
        return ({"status": "success", "track": "BGM", "label": args["style"],
                 "volume": args["volume"]}, "music",
                {"label": args["style"], "pct": int(round(
                    args["volume"] * 100))})

    def _op_text(self, sess, draft, args):
        name, text = args["track"], args["text"]
        if name == "Title":
            remove_tracks(draft, lambda t: t.get("tt") == 7 and
                          track_name(t) == "Title")
            extent = content_extent(draft) or 3000
            draft["t"].append({"tt": 7, "m": {"name": "Title"}, "sg": [
                {"s": 0, "d": int(min(3000, extent)), "m": {"text": text}}]})
        else:
            tr = ensure_track(draft, 7, name)
            tr["sg"].append({"s": int(track_end(tr)), "d": 3000,
                             "m": {"text": text}})
        return ({"status": "success", "track": name, "text": text}, "text",
                {"text": text, "track": name})

    def _op_trim(self, sess, draft, args):
        extent = content_extent(draft)
        if extent <= 0:
            return {"status": "noop", "reason": "empty timeline"}, \
                "trim_noop", {}
        target = args.get("target_ms") or max(
            1000, int(round(extent * args.get("ratio", 0.8) / 100.0)) * 100)
        target = int(min(target, extent))
        clip_draft(draft, target)
        return ({"status": "success", "duration_ms": target}, "trim",
                {"secs": secs(target)})

    def _op_remove(self, sess, draft, args):
        targets, removed = args["targets"], []
        if "music" in targets and remove_tracks(
                draft, lambda t: t.get("tt") == 1):
            removed.append("music")
        if "text" in targets and remove_tracks(
                draft, lambda t: t.get("tt") == 7):
            removed.append("text")
        if "video" in targets:
            vt = [t for t in tracks(draft) if t.get("tt") == 0]
            if vt and segments(vt[0]):
                vt[0]["sg"].pop()
                if not vt[0]["sg"]:
                    draft["t"].remove(vt[0])
                removed.append("video")
        if not targets and draft["t"]:
            draft["t"].pop()
            removed.append("track")
        fit_bgm(draft)
        if not removed:
            return {"status": "noop"}, "remove_noop", {}
        return {"status": "success", "removed": removed}, "remove", \
            {"what": removed}

    # -- renders -----------------------------------------------------------
    def create_render(self, rid, sid, draft, output):
        with self.lock:
            if rid in self.renders:
                return self.renders[rid], False
            fail = self.config["fail_next_render"]
            self.config["fail_next_render"] = False
            r = {"id": rid, "sessionId": sid, "draft": copy.deepcopy(draft),
                 "output_request": output, "step": 0,
                 "steps": list(self.config["render_steps"]),
                 "fail": (fail if isinstance(fail, str) else
                          "render node crashed (GPU out of memory)")
                 if fail else None, "created_at": time.time(), "polls": 0}
            self.renders[rid] = r
            if self.config["shapes"] == "current":
                # The backend names its own id for the render; both the
                # id sent and this one find it.
                r["render_id"] = self.new_id("lambda_")
                self.render_alias[r["render_id"]] = rid
            return r, True

    def find_render(self, rid):
        with self.lock:
            return self.renders.get(self.render_alias.get(rid, rid))

    def poll_render(self, rid):
        with self.lock:
            r = self.find_render(rid)
            if r:
                r["polls"] += 1
                r["step"] = min(r["step"] + 1, len(r["steps"]) + 1)
            return r

    def render_view(self, r):
        with self.lock:
            steps, step = r["steps"], r["step"]
            words = RENDER_WORDS[self.config["shapes"]]
            view = {"id": r["id"], "sessionId": r["sessionId"]}
            if r.get("render_id"):
                view["render_id"] = r["render_id"]
            if step == 0:
                view.update(status=words.get("queued", "queued"), progress=0)
            elif step <= len(steps):
                view.update(status=words.get("rendering", "rendering"),
                            progress=steps[step - 1])
            elif r["fail"]:
                view.update(status="failed", progress=steps[-1]
                            if steps else 0, error=r["fail"])
            else:
                name = r["id"] + ".mp4"
                self.files.setdefault(name, None)
                view.update(status="completed", progress=100, output={
                    "url": "%s/files/%s" % (self.base_url, name),
                    "format": "mp4", "size": len(self.sample_mp4),
                    "duration_ms": r["draft"].get("d", 0)})
                if not self.config["render_url"]:
                    del view["output"]["url"]
            return view


# --------------------------------------------------------------------------
# SSE writing: chunked transfer encoding, odd split points, mixed endings
# --------------------------------------------------------------------------

class SSEWriter:
    def __init__(self, handler, backend, fault):
        self.h, self.b = handler, backend
        with backend.lock:
            self.split = backend.config["split_writes"]
            self.crlf = backend.config["crlf"]
        fault = fault or {}
        kind = fault.get("kind")
        self.drop_after = int(fault.get("after", 1)) if kind == "drop" \
            else None
        self.error_after = int(fault.get("after", 1)) \
            if kind == "error_event" else None
        self.error_fault = fault if kind == "error_event" else None
        self.delay_ms = int(fault.get("delay_ms", 0)) if kind == "slow" \
            else 0
        self.events = self.heartbeats = 0
        self.glue = ""
        self.error_sent = False
        self.chunked = handler.request_version != "HTTP/1.0"

    def start(self):
        h = self.h
        try:
            h.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY,
                                    1)
        except OSError:
            pass
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Cache-Control", "no-cache")
        h.send_header("X-Accel-Buffering", "no")
        if self.chunked:
            h.send_header("Transfer-Encoding", "chunked")
        else:  # an HTTP/1.0 client: the body ends when the connection does
            h.close_connection = True
            h.send_header("Connection", "close")
        h.end_headers()
        h.responded = True

    def write(self, data):
        if data:
            self.write_raw(b"%x\r\n%s\r\n" % (len(data), data)
                           if self.chunked else data)

    def pieces(self, data, salt):
        n = len(data)
        if not self.split or n < 16:
            return [data]
        cuts = {n // 3 + salt % 7, (2 * n) // 3 + 1}
        if data.endswith(b"\r\n\r\n"):
            cuts.add(n - 1)  # a CR at the end of one read, LF in the next
        cuts = sorted(c for c in cuts if 0 < c < n)
        return [data[a:b] for a, b in zip([0] + cuts, cuts + [n])]

    def send(self, text, salt=0):
        for piece in self.pieces((self.glue + text).encode("utf-8"), salt):
            self.write(piece)
        self.glue = ""

    def heartbeat(self, glue=False):
        kinds = (": heartbeat\n\n", "data:\n\n", ": heartbeat\r\n\r\n",
                 "data: \n\n")
        text = kinds[self.heartbeats % len(kinds)]
        if not self.crlf:
            text = text.replace("\r\n", "\n")
        self.heartbeats += 1
        if glue:
            self.glue += text
        else:
            self.send(text)

    def check_faults(self, final=False):
        """Before each event (and at the end, final=True, when a pending
        drop or error fault fires even if the stream had fewer events)."""
        if self.delay_ms and not final:
            self.b.sleep(self.delay_ms)
        if self.drop_after is not None and (final or
                                            self.events >= self.drop_after):
            raise Dropped()
        if self.error_after is not None and (final or
                                             self.events >= self.error_after):
            f = self.error_fault
            self.error_after = None
            self.error_event(f.get("error_code", "INTERNAL_ERROR"),
                             f.get("error_message",
                                   "The model is overloaded, try again."))
            raise StreamEnded()

    def event(self, obj):
        self.check_faults()
        end = "\r\n\r\n" if self.crlf and self.events % 3 == 1 else "\n\n"
        self.send("data: " + json.dumps(obj, ensure_ascii=False,
                                        separators=(",", ":")) + end,
                  salt=self.events)
        self.events += 1

    def error_event(self, code, message, inv=None):
        ev = {"id": str(uuid.uuid4()),
              "invocationId": inv or "e-" + str(uuid.uuid4()),
              "author": "nemo_agent", "timestamp": round(time.time(), 6),
              "errorCode": code, "errorMessage": message}
        self.send("data: " + json.dumps(ev, separators=(",", ":")) + "\n\n")
        self.events += 1
        self.error_sent = True

    def end(self, check=True):
        if check:
            self.check_faults(final=True)
        if self.chunked:
            self.write_raw(b"0\r\n\r\n")

    def write_raw(self, data):
        try:
            self.h.wfile.write(data)
            self.h.wfile.flush()
        except OSError as e:
            raise ClientGone() from e


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------

API_ROUTES = [
    ("POST", r"/api/auth/anonymous-token", "h_token"),
    ("POST", r"/api/auth/claim-token", "h_claim"),
    ("POST", r"/api/tasks/me/with-session/nemo_agent", "h_session"),
    ("POST", r"/run_sse", "h_run_sse"),
    ("POST", r"/api/upload-video/nemo_agent/me/([^/]+)", "h_upload"),
    ("GET", r"/api/credits/balance/simple", "h_credits"),
    ("GET", r"/api/state/nemo_agent/me/([^/]+)/latest", "h_state"),
    ("POST", r"/api/render/proxy/lambda", "h_render_create"),
    ("GET", r"/api/render/proxy/lambda/([^/]+)", "h_render_get"),
    ("GET", r"/api/render/proxy/([^/]+)/download", "h_render_download"),
    ("GET", r"/files/([^/]+)", "h_file"),
    ("HEAD", r"/files/([^/]+)", "h_file"),
]
CONTROL_ROUTES = [
    ("GET", r"/_control/requests", "c_requests"),
    ("POST", r"/_control/requests/clear", "c_requests_clear"),
    ("GET", r"/_control/faults", "c_faults"),
    ("POST", r"/_control/fault", "c_fault"),
    ("POST", r"/_control/fault/clear", "c_fault_clear"),
    ("POST", r"/_control/expire_token", "c_expire_token"),
    ("POST", r"/_control/lose_session", "c_lose_session"),
    ("POST", r"/_control/next_turn", "c_next_turn"),
    ("GET", r"/_control/config", "c_config_get"),
    ("POST", r"/_control/config", "c_config"),
    ("POST", r"/_control/set_state", "c_set_state"),
    ("GET", r"/_control/state", "c_state"),
    ("POST", r"/_control/credits", "c_credits"),
    ("POST", r"/_control/issue_token", "c_issue_token"),
    ("POST", r"/_control/reset", "c_reset"),
    ("GET", r"/_control/info", "c_info"),
]
ROUTES = [(m, re.compile(p + "$"), fn) for m, p, fn in
          API_ROUTES + CONTROL_ROUTES]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, delayed
    # ACKs stall every reply on a kept-alive connection by ~40 ms.
    disable_nagle_algorithm = True
    server_version = "refbackend/1.0"
    timeout = 120

    # -- plumbing ----------------------------------------------------------
    @property
    def B(self):
        return self.server.backend

    def log_message(self, fmt, *args):
        if self.B.verbose:
            sys.stderr.write("refbackend: %s %s\n" % (self.address_string(),
                                                      fmt % args))

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def dispatch(self, method):
        url = urlsplit(self.path)
        self.url, self.responded, self.fault = url, False, None
        self.body, self.t0 = None, time.monotonic()
        self.is_control = url.path.startswith("/_control/")
        self.entry = None if self.is_control else \
            self.B.log_request(method, url, self.headers)
        try:
            self.body = BodyReader(self.rfile, self.headers)
            if not self.is_control and self.pre_fault(method, url.path):
                return
            self.route(method, url.path)
        except ClientGone:
            self.close_connection = True
        except Dropped:
            self.abort()
        except BadRequest as e:
            self.close_connection = self.close_connection or \
                e.status in (400, 413)
            self.safe_reply(e.status, e.code, e.msg)
        except Exception as e:  # keep serving; report as HTTP 500
            if self.B.verbose:
                traceback.print_exc()
            if self.responded:  # mid-stream: the connection is unusable
                self.abort()
            self.safe_reply(500, 500, "internal error: %s" % e)
        finally:
            self.finish_exchange()

    def mark_done(self):
        """Log the request as answered. Called just before the last bytes
        of a reply are written, so a client that got its answer always
        finds the log (and any state change) complete."""
        if self.entry is not None:
            self.B.update_entry(
                self.entry, done=True,
                body_size=self.body.nread if self.body else 0,
                duration_ms=int((time.monotonic() - self.t0) * 1000))

    def finish_exchange(self):
        if self.body is None:
            self.close_connection = True
        elif not self.close_connection:
            try:
                if not self.body.drain():
                    self.close_connection = True
            except ClientGone:
                self.close_connection = True
        self.mark_done()

    def route(self, method, path):
        known = False
        for m, rx, fn in ROUTES:
            match = rx.match(path)
            if match:
                known = True
                if m == method:
                    return getattr(self, fn)(*[unquote(g) for g in
                                               match.groups()])
        self.reply(405 if known else 404, 405 if known else 404,
                   "method not allowed" if known else "not found: " + path)

    def abort(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def safe_reply(self, status, code, msg):
        if not self.responded:
            try:
                self.reply(status, code, msg)
            except (ClientGone, OSError):
                self.close_connection = True

    def send_bytes(self, status, body, ctype, headers=()):
        """Reply once the request body is read (draining what is left)."""
        try:
            if self.body is None or not self.body.drain():
                self.close_connection = True
        except ClientGone:
            self.close_connection = True
            raise
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.mark_done()
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
        except OSError as e:
            raise ClientGone() from e
        finally:
            self.responded = True

    def reply(self, status, code=0, msg=None, data=None, headers=()):
        env = envelope(code, msg, data)
        self.B.update_entry(self.entry, status=status, code=code)
        self.send_bytes(status, json.dumps(env, ensure_ascii=False).encode(
            "utf-8"), "application/json; charset=utf-8", headers)

    def ok(self, data):
        self.reply(200, 0, None, data)

    def read_json(self, required=True):
        raw = self.body.read_all()
        if not raw.strip():
            if required:
                raise BadRequest("a JSON body is required")
            return {}
        try:
            obj = json.loads(raw)
        except ValueError:
            raise BadRequest("invalid JSON body")
        if len(raw) <= LOG_JSON_LIMIT:
            self.B.update_entry(self.entry, json=obj)
        if not isinstance(obj, dict):
            raise BadRequest("the JSON body must be an object")
        return obj

    # -- faults --------------------------------------------------------------
    def pre_fault(self, method, path):
        """Apply a matching fault; True when the request is fully handled."""
        f = self.B.take_fault(method, path)
        if not f:
            return False
        self.fault = f
        self.B.update_entry(self.entry, fault=f["kind"])
        kind = f["kind"]
        streaming = path == "/run_sse" or path.startswith("/files/")
        if kind == "status":
            return self.fault_status(f)
        if kind == "code":
            code = int(f.get("code", 1001))
            data = f.get("data")
            if code == 2001 and data is None:
                rec = self.bearer_record()
                data = self.register_data(rec["bind_id"] if rec
                                          else "anonymous")
                if not self.B.cfg("credits_error_link"):
                    data = None
            self.reply(200, code, f.get("msg"), data)
            return True
        if kind == "rate_limit":
            ra = f.get("retry_after", self.B.cfg("retry_after"))
            self.reply(429, 429, f.get("msg"), None,
                       [("Retry-After", str(ra))])
            return True
        if kind == "hang":
            self.hang(f)
            return True
        if kind == "drop" and not streaming:
            self.body.drain()
            self.mark_done()
            self.abort()
            return True
        if kind == "slow" and not streaming:
            self.B.sleep(int(f.get("delay_ms", 1000)))
        return False

    def fault_status(self, f):
        status = int(f.get("status", 500))
        headers = [("Retry-After", str(f["retry_after"]))] \
            if "retry_after" in f else []
        if "body" in f:
            self.B.update_entry(self.entry, status=status, code=None)
            self.send_bytes(status, str(f["body"]).encode("utf-8"),
                            f.get("content_type", "text/html"), headers)
        else:
            self.reply(status, int(f.get("code", status)), f.get("msg"),
                       None, headers)
        return True

    def hang(self, f):
        """Answer nothing until the client leaves, the fault is cleared or
        the backend reset, or max_ms (bounded) passes; then close."""
        self.body.drain()
        release = self.B.hang_release
        limit = int(f.get("max_ms", self.B.cfg("hang_max_ms")))
        deadline = time.monotonic() + limit / 1000.0
        while time.monotonic() < deadline and not release.is_set() and \
                not self.B.stopping.is_set() and not self.client_gone():
            release.wait(0.05)
        self.B.update_entry(self.entry, status=None, code=None, hung=True)
        self.mark_done()
        self.abort()

    def client_gone(self):
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            if not r:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (BlockingIOError, InterruptedError, socket.timeout):
            return False
        except OSError:
            return True

    # -- auth helpers --------------------------------------------------------
    def bearer(self):
        value = (self.headers.get("Authorization") or "").strip()
        m = re.match(r"Bearer\s+(\S+)$", value, re.I)
        return m.group(1) if m else None

    def bearer_record(self):
        tok = self.bearer()
        return self.B.valid_token(tok) if tok else None

    def require_token(self):
        """The token record, or None after replying 401/1001 or 200/1001."""
        if not self.headers.get("Authorization"):
            self.reply(401, 1001, "token expired or invalid: missing "
                       "Authorization header")
            return None
        rec = self.bearer_record()
        if rec is None:
            self.reply(200, 1001)
        return rec

    @staticmethod
    def register_data(bind_id):
        return {"bind_id": bind_id,
                "register_url": REGISTER_URL.format(bind_id=bind_id)}

    def session_or_reply(self, sid):
        sess = self.B.get_session(sid) if isinstance(sid, str) else None
        if sess is None:
            self.reply(200, 1002)
        return sess

    # -- API endpoints -------------------------------------------------------
    def h_token(self):
        cid = (self.headers.get("X-Client-Id") or "").strip()
        rx = CLIENT_ID_RE if self.B.cfg("client_id_uuid_only") \
            else ANY_CLIENT_ID_RE
        if not rx.match(cid):
            self.reply(400, 400, "missing X-Client-Id" if not cid else
                       "invalid X-Client-Id")
            return
        rec = self.B.issue_token(cid)
        if rec is None:
            self.reply(429, 429, "rate limited: one token per client id "
                       "per 7 days", None,
                       [("Retry-After", str(self.B.cfg("retry_after")))])
            return
        if self.B.cfg("shapes") == "seeds":
            self.ok({"token": rec["token"],
                     "credits": rec["account"]["available"],
                     "expires_in": int(self.B.cfg("token_ttl_s")),
                     "expires_at": rec["expires_at"]})
            return
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                            time.gmtime(rec["expires_at"]))
        self.ok({"token": rec["token"], "user_id": rec["user_id"],
                 "credits": rec["account"]["available"], "expires_at": iso})

    def h_claim(self):
        rec = self.require_token()
        if not rec:
            return
        body = self.read_json()
        task, sid = body.get("task_id"), body.get("session_id")
        if not isinstance(task, str) or not isinstance(sid, str):
            raise BadRequest("task_id and session_id are required")
        sess = self.session_or_reply(sid)
        if not sess:
            return
        if sess["task_id"] != task:
            raise BadRequest("task_id does not match the session")
        ct = "clm_" + secrets.token_hex(12)
        with self.B.lock:
            self.B.claims[ct] = {"session_id": sid, "task_id": task,
                                 "user_id": rec["user_id"]}
        self.ok({"claim_token": ct, "expires_in": CLAIM_TTL_S})

    def h_session(self):
        rec = self.require_token()
        if not rec:
            return
        body = self.read_json(required=False)
        lang = body.get("language") or "en"
        sess = self.B.create_session(rec, str(lang))
        if self.B.cfg("shapes") == "seeds":
            self.ok({"session_id": sess["session_id"],
                     "task_id": sess["task_id"], "bind_id": sess["bind_id"]})
            return
        self.ok({"task_id": sess["task_id"],
                 "session_id": sess["session_id"],
                 "user_id": sess["bind_id"]})

    def h_credits(self):
        rec = self.require_token()
        if rec:
            with self.B.lock:
                self.ok(self.B.balance(rec))

    def h_state(self, sid):
        if self.require_token():
            sess = self.session_or_reply(sid)
            if sess:
                self.ok(self.B.state_view(sess))

    def h_run_sse(self):
        rec = self.require_token()
        if not rec:
            return
        body = self.read_json()
        try:
            prompt = body["new_message"]["parts"][0]["text"]
            sid = body["session_id"]
        except (KeyError, IndexError, TypeError):
            raise BadRequest("invalid request body: need session_id and "
                             "new_message.parts[0].text", 422)
        if body.get("app_name") != "nemo_agent" or \
                not isinstance(prompt, str):
            raise BadRequest("invalid request body: app_name must be "
                             "nemo_agent", 422)
        sess = self.session_or_reply(sid)
        if not sess:
            return
        lang = turn_language(prompt, sess["language"])
        with self.B.lock:
            # An answer to the agent's question: the work of the prompt
            # that was asked about goes ahead now.
            asked = sess.get("pending_ask")
            ops = plan_ops(asked or prompt, sess, lang)
        cost = self.B.turn_cost(ops)
        if not self.B.freeze(rec, cost):
            self.reply(200, 2001, None,
                       self.register_data(rec["bind_id"])
                       if self.B.cfg("credits_error_link") else None)
            return
        script = self.B.take_turn_script(sid)
        mode = self.B.decide_mode(script, ops)
        if ASK_MARKER in prompt.lower() and not script:
            mode = "ask"
        with self.B.lock:
            if mode == "ask":
                sess["pending_ask"], ops = prompt, []
            else:
                sess.pop("pending_ask", None)
        turn = {"rec": rec, "sess": sess, "prompt": prompt, "ops": ops,
                "lang": lang, "cost": cost, "script": script or {},
                "mode": mode, "applied": False, "text": None,
                "answers": asked}
        self.B.update_entry(self.entry, status=200, code=0)
        self.stream_turn(turn)

    def stream_turn(self, turn):
        """Stream one turn. The turn is settled (draft, credits, log)
        before the terminating chunk, so a client that saw the stream end
        reads the new state at once."""
        w = SSEWriter(self, self.B, self.fault)
        outcome = "client_gone"
        try:
            w.start()
            if turn["script"].get("events") is not None:
                for raw in turn["script"]["events"]:
                    w.write(raw.encode("utf-8"))
                outcome = "replay"
            else:
                self.turn_events(w, turn)
                outcome = "error" if w.error_sent else \
                    "silent" if turn["mode"] == "silent" else "complete"
            w.check_faults(final=True)
            self.finish_turn(turn, w, outcome)
            w.end(check=False)
        except StreamEnded:
            outcome = "error"
            self.finish_turn(turn, w, outcome)
            try:
                w.end(check=False)
            except ClientGone:
                self.close_connection = True
        except ClientGone:
            outcome = "client_gone"
        except Dropped:
            outcome = "dropped"
            self.finish_turn(turn, w, outcome)
            self.abort()
        finally:
            self.finish_turn(turn, w, outcome)

    def ask_events(self, w, turn, inv):
        """The agent asks and waits: a long-running ask_question call (or,
        with "plain", another long-running tool) and its question text."""
        s = turn["script"]
        qs = s.get("questions") or ASK_QUESTIONS
        cid = "adk-" + str(uuid.uuid4())
        name = "request_user_input" if s.get("plain") else "ask_question"
        w.event(adk_event(inv, [{"functionCall": {
            "id": cid, "name": name, "args": {"questions": qs}}}],
            longRunningToolIds=[cid]))
        text = s.get("text") or "Before I start: " + qs[0]["prompt"]
        turn["text"] = text
        w.event(adk_event(inv, [{"text": text}], turnComplete=True))

    def turn_events(self, w, turn):
        inv = "e-" + str(uuid.uuid4())
        w.heartbeat()
        if turn["mode"] == "ask":
            self.ask_events(w, turn, inv)
            return
        if turn["mode"] == "heartbeats":
            self.only_heartbeats(w, turn)
            return
        for op in turn["ops"]:
            w.event(adk_event(inv, [{"functionCall": {
                "id": op["call_id"], "name": op["tool"],
                "args": op["args"]}}]))
        w.heartbeat(glue=True)
        self.work(w, turn)
        if turn["mode"] == "error":
            s = turn["script"]
            w.error_event(s.get("error_code", "MODEL_ERROR"),
                          s.get("error_message", "The agent failed to "
                                "finish this step. Please try again."), inv)
            return
        results = self.B.apply_ops(turn["sess"], turn["ops"])
        turn["applied"] = True
        for op, resp, _ in results:
            w.event(adk_event(inv, [{"functionResponse": {
                "id": op["call_id"], "name": op["tool"],
                "response": resp}}], role="user"))
        if turn["mode"] == "silent":
            return
        text = turn["script"].get("text") or compose_text(
            turn["lang"], [r[2] for r in results])
        turn["text"] = text
        issue = self.B.temporary_issue(turn)
        for piece in split_text(text):
            w.event(adk_event(inv, [{"text": piece}], partial=True))
        usage = {"promptTokenCount": len(turn["prompt"]),
                 "candidatesTokenCount": len(text),
                 "totalTokenCount": len(turn["prompt"]) + len(text)}
        if issue:
            w.event(adk_event(inv, [{"text": text}]))
            w.event(adk_event(inv, [{"text": issue}], turnComplete=True,
                              usageMetadata=usage))
            return
        w.event(adk_event(inv, [{"text": text}], turnComplete=True,
                          usageMetadata=usage))

    def only_heartbeats(self, w, turn):
        """Mode "heartbeats": the agent never says anything; the stream
        only keeps alive for delay_ms (default hang_max_ms) or until the
        client gives up. Whatever the turn does still happens on the
        backend (finish_turn), as when a real agent works on unseen."""
        beat = max(5, int(self.B.cfg("heartbeat_ms")))
        total = int(turn["script"].get("delay_ms",
                                       self.B.cfg("hang_max_ms")))
        deadline = time.monotonic() + total / 1000.0
        while time.monotonic() < deadline and \
                not self.B.stopping.is_set():
            self.B.sleep(beat)
            w.heartbeat()

    def work(self, w, turn):
        """The agent "works": heartbeats every heartbeat_ms (bounded)."""
        s = turn["script"]
        total = int(s.get("delay_ms", self.B.cfg("turn_ms")))
        beat = max(5, int(self.B.cfg("heartbeat_ms")))
        for _ in range(total // beat):
            self.B.sleep(beat)
            if self.B.stopping.is_set():
                return
            w.heartbeat()
        self.B.sleep(total % beat)

    def finish_turn(self, turn, w, outcome):
        """Apply what is left of the turn, settle its credits, log it, and
        mark the request done (once; the first call wins)."""
        if turn.get("finished"):
            return
        turn["finished"] = True
        B, s = self.B, turn["script"]
        error = outcome == "error"
        if not error and not turn["applied"] and s.get("events") is None:
            B.apply_ops(turn["sess"], turn["ops"])
        if not error and "draft" in s:
            with B.lock:
                turn["sess"]["draft"] = copy.deepcopy(s["draft"])
        B.settle(turn["rec"], turn["cost"], charge=not error)
        B.update_entry(self.entry, sse={
            "mode": turn["mode"], "outcome": outcome, "events": w.events,
            "heartbeats": w.heartbeats, "text": turn["text"],
            "tools": [o["tool"] for o in turn["ops"]], "cost": turn["cost"],
            "charged": not error, "language": turn["lang"],
            "temporary_issue": bool(turn.get("temporary_issue")),
            "answers": turn.get("answers")})
        self.mark_done()

    def h_upload(self, sid):
        if not self.require_token():
            return
        sess = self.session_or_reply(sid)
        if not sess:
            return
        msg = email.message.Message()
        msg["Content-Type"] = self.headers.get("Content-Type", "")
        ctype = msg.get_content_type()
        if ctype == "multipart/form-data":
            boundary = msg.get_param("boundary")
            if not boundary:
                raise BadRequest("multipart body without boundary")
            self.upload_multipart(sess, boundary)
        elif ctype == "application/json":
            self.upload_urls(sess)
        else:
            raise BadRequest("unsupported Content-Type: use "
                             "multipart/form-data or application/json")

    def upload_multipart(self, sess, boundary):
        limit = self.B.cfg("upload_limit_bytes")
        saved, parts, error, cur, fh = [], [], None, None, None
        try:
            for kind, val in iter_multipart(self.body.read,
                                            boundary.encode("latin-1")):
                if kind == "part":
                    name, filename, ptype = part_info(val)
                    cur = {"name": name, "filename": filename,
                           "content_type": ptype, "size": 0}
                    parts.append(cur)
                    if name == "files" and filename:
                        error, fh = self.open_upload(cur, error)
                elif kind == "data":
                    cur["size"] += len(val)
                    if fh and cur["size"] > limit:
                        fh.close()
                        os.unlink(fh.name)
                        fh, error = None, error or (4002, self.too_large())
                    elif fh:
                        fh.write(val)
                elif fh:
                    fh.close()
                    saved.append((cur, fh.name))
                    fh = None
        except BadRequest:
            for _, path in saved:
                os.unlink(path)
            raise
        finally:
            self.B.update_entry(self.entry, parts=parts)
            if fh:
                fh.close()
                os.unlink(fh.name)
        self.finish_upload(sess, saved, error)

    def open_upload(self, cur, error):
        ext = ext_of(cur["filename"])
        if ext not in ACCEPTED_TYPES:
            return error or (4001, "unsupported file type '.%s'; accepted "
                             "formats: %s" % (ext, ", ".join(ACCEPTED_TYPES))
                             ), None
        if error:
            return error, None
        cur["file_id"] = self.B.new_id("file_")
        path = os.path.join(self.B.data_dir, cur["file_id"] + "." + ext)
        return None, open(path, "wb")

    def too_large(self):
        limit = self.B.cfg("upload_limit_bytes")
        return MESSAGES[4002].format(limit_mb="%g" % (limit / MB))

    def finish_upload(self, sess, saved, error):
        if error or not saved:
            for _, path in saved:
                os.unlink(path)
            if error:
                self.reply(200, error[0], error[1])
            else:
                self.reply(400, 400, "no file in a multipart field named "
                           "'files'")
            return
        files = [self.B.add_upload(sess, cur["filename"], cur["size"],
                                   path=path, fid=cur["file_id"])
                 for cur, path in saved]
        self.ok(self.B.upload_answer(files))

    def upload_urls(self, sess):
        body = self.read_json()
        urls = body.get("urls")
        if not isinstance(urls, list) or not urls or not all(
                isinstance(u, str) and u for u in urls):
            raise BadRequest("urls must be a non-empty list of strings")
        names = [unquote(urlsplit(u).path.rsplit("/", 1)[-1]) or "remote"
                 for u in urls]
        for name in names:
            ext = ext_of(name)
            if ext and ext not in ACCEPTED_TYPES:
                self.reply(200, 4001, "unsupported file type '.%s'; "
                           "accepted formats: %s"
                           % (ext, ", ".join(ACCEPTED_TYPES)))
                return
        self.ok(self.B.upload_answer([self.B.add_upload(sess, n, 0, url=u)
                                      for n, u in zip(names, urls)]))

    def h_render_create(self):
        if not self.require_token() or not self.attribution_ok():
            return
        body = self.read_json()
        rid, sid, draft = body.get("id"), body.get("sessionId"), \
            body.get("draft")
        if not isinstance(rid, str) or not SAFE_ID_RE.match(rid):
            raise BadRequest("id must match [A-Za-z0-9_.-]{1,128}")
        existing = self.B.find_render(rid)
        if existing:
            self.ok(self.B.render_view(existing))
            return
        if not isinstance(draft, dict):
            raise BadRequest("draft must be a JSON object")
        if not self.session_or_reply(sid):
            return
        if not tracks(draft) or not draft.get("d"):
            raise BadRequest("draft is empty: nothing to render")
        r, _ = self.B.create_render(rid, sid, draft, body.get("output"))
        self.ok(self.B.render_view(r))

    def attribution_ok(self):
        missing = [h for h in ATTRIBUTION_HEADERS
                   if not (self.headers.get(h) or "").strip()]
        if missing:
            self.reply(402, 402, MESSAGES[402] + " (missing "
                       + ", ".join(missing) + ")")
        return not missing

    def h_render_get(self, rid):
        if not self.require_token() or not self.attribution_ok():
            return
        r = self.B.poll_render(rid)
        if r is None:
            self.reply(404, 404, "render not found: " + rid)
        elif self.B.cfg("shapes") == "current":
            # Documented: status at the top level of the answer.
            self.B.update_entry(self.entry, status=200, code=None)
            self.send_bytes(200, json.dumps(self.B.render_view(r)).encode(),
                            "application/json")
        else:
            self.ok(self.B.render_view(r))

    def h_render_download(self, rid):
        """The documented fallback download of a finished render (auth
        required, like every API call)."""
        if not self.require_token() or not self.attribution_ok():
            return
        r = self.B.find_render(rid)
        view = self.B.render_view(r) if r else None
        if not view or view["status"] != "completed":
            self.reply(404, 404, "no finished render: " + rid)
            return
        self.h_file(r["id"] + ".mp4")

    def h_file(self, name):
        src = self.B.file_source(name)
        if src is None:
            self.reply(404, 404, "file not found: " + name)
            return
        data, ctype = src
        size = len(data) if isinstance(data, bytes) else \
            os.path.getsize(data)
        start, end, status, headers = self.byte_range(size)
        if status == 416:
            self.reply(416, 416, "range not satisfiable", None,
                       [("Content-Range", "bytes */%d" % size)])
            return
        self.B.update_entry(self.entry, status=status, code=None)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(end - start))
        self.send_header("Accept-Ranges", "bytes")
        for k, v in headers:
            self.send_header(k, v)
        self.mark_done()
        self.end_headers()
        self.responded = True
        if self.command != "HEAD":
            self.send_file_body(data, start, end)

    def byte_range(self, size):
        m = re.match(r"bytes=(\d*)-(\d*)$",
                     (self.headers.get("Range") or "").strip())
        if not m or (not m.group(1) and not m.group(2)):
            return 0, size, 200, []
        if m.group(1):
            start = int(m.group(1))
            end = min(int(m.group(2)) + 1, size) if m.group(2) else size
        else:
            start, end = max(0, size - int(m.group(2))), size
        if start >= size or start >= end:
            return 0, 0, 416, []
        return start, end, 206, [("Content-Range", "bytes %d-%d/%d"
                                  % (start, end - 1, size))]

    def send_file_body(self, data, start, end):
        f = self.fault or {}
        drop = int(f.get("after", 0)) if f.get("kind") == "drop" else None
        delay = int(f.get("delay_ms", 0)) if f.get("kind") == "slow" else 0
        chunk = 1024 if delay else FILE_CHUNK
        fh = None if isinstance(data, bytes) else open(data, "rb")
        try:
            pos = start
            while pos < end:
                n = min(chunk, end - pos)
                if drop is not None:
                    n = min(n, drop - (pos - start))
                    if n <= 0:
                        raise Dropped()
                if fh:
                    fh.seek(pos)
                    piece = fh.read(n)
                else:
                    piece = data[pos:pos + n]
                self.B.sleep(delay)
                self.wfile.write(piece)
                pos += len(piece)
            self.wfile.flush()
        except OSError as e:
            raise ClientGone() from e
        finally:
            if fh:
                fh.close()

    # -- control endpoints ---------------------------------------------------
    def c_requests(self):
        q = {k: v[-1] for k, v in parse_qs(self.url.query).items()}
        self.ok({"requests": self.B.query_log(
            q.get("path"), int(q.get("since", 0)),
            int(q.get("min_count", 0)), int(q.get("timeout_ms", 0)),
            q.get("done") in ("1", "true"))})

    def c_requests_clear(self):
        with self.B.lock:
            self.B.log = []
        self.ok({"cleared": True})

    def c_faults(self):
        with self.B.lock:
            self.ok({"faults": copy.deepcopy(self.B.faults)})

    def c_fault(self):
        self.ok({"faults": self.B.add_fault(self.read_json())})

    def c_fault_clear(self):
        self.B.clear_faults()
        self.ok({"faults": []})

    def c_expire_token(self):
        body = self.read_json(required=False)
        self.ok({"expired": self.B.expire_tokens(body.get("token"))})

    def c_lose_session(self):
        body = self.read_json(required=False)
        self.ok({"lost": self.B.lose_sessions(body.get("session_id"))})

    def c_next_turn(self):
        self.ok({"queued": self.B.add_turn_script(self.read_json())})

    def c_config_get(self):
        with self.B.lock:
            self.ok({"config": copy.deepcopy(self.B.config)})

    def c_config(self):
        self.ok({"config": self.B.set_config(self.read_json())})

    def c_set_state(self):
        self.ok({"session": self.B.set_state(self.read_json())})

    def c_state(self):
        sid = (parse_qs(self.url.query).get("session_id") or [""])[-1]
        with self.B.lock:
            sess = self.B.sessions.get(sid)
            if sess is None:
                raise BadRequest("unknown session: " + sid, 404)
            self.ok({"session": json.loads(json.dumps(sess))})

    def c_credits(self):
        body = self.read_json()
        self.ok({"accounts": self.B.set_credits(body)})

    def c_issue_token(self):
        body = self.read_json(required=False)
        rec = self.B.issue_token(None, body.get("credits"), body.get("token"))
        self.ok({"token": rec["token"], "expires_at": rec["expires_at"],
                 "bind_id": rec["bind_id"], "user_id": rec["user_id"],
                 "credits":
                 rec["account"]["available"]})

    def c_reset(self):
        self.B.reset()
        self.ok({"reset": True})

    def c_info(self):
        B = self.B
        with B.lock:
            self.ok({"url": B.base_url, "seed": B.seed,
                     "data_dir": B.data_dir, "pid": os.getpid(),
                     "sessions": sorted(B.sessions), "tokens":
                     len(B.tokens), "renders": sorted(B.renders),
                     "files": sorted(B.files),
                     "queued_turns": len(B.turn_scripts)})


class RefServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, backend):
        self.backend = backend
        super().__init__(addr, Handler)
        host = addr[0] if addr[0] not in ("", "0.0.0.0") else "127.0.0.1"
        backend.base_url = "http://%s:%d" % (host, self.server_port)

    def handle_error(self, request, client_address):
        if self.backend.verbose:
            super().handle_error(request, client_address)


# --------------------------------------------------------------------------
# Helper for other Python tests
# --------------------------------------------------------------------------

DEFAULT_ATTRIBUTION = {"X-Skill-Source": "nemo-mcp-tests",
                       "X-Skill-Version": "0.0.0",
                       "X-Skill-Platform": "unknown"}
GET_CONTROLS = ("requests", "faults", "config", "state", "info")


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())


class RefBackend:
    """A reference backend for a test: in a thread (default) or a child
    process (subprocess=True). Use as a context manager or start()/stop()."""

    def __init__(self, seed=0, data_dir=None, verbose=False, subprocess=False,
                 config=None, host="127.0.0.1", port=0):
        self.seed, self.data_dir, self.verbose = seed, data_dir, verbose
        self.use_process, self.initial_config = subprocess, config
        self.host, self.port = host, port
        self.url, self.proc, self.server, self.backend = None, None, None, \
            None
        self.thread = None

    # -- lifecycle ---------------------------------------------------------
    def start(self):
        if self.use_process:
            self._start_process()
        else:
            self.backend = Backend(self.seed, self.data_dir, self.verbose)
            self.server = RefServer((self.host, self.port), self.backend)
            self.url = self.backend.base_url
            self.thread = threading.Thread(
                target=self.server.serve_forever, kwargs={
                    "poll_interval": 0.05}, daemon=True)
            self.thread.start()
        self.port = int(self.url.rsplit(":", 1)[1])
        if self.initial_config:
            self.config(**self.initial_config)
        return self

    def _start_process(self):
        cmd = [sys.executable, os.path.abspath(__file__), "--host",
               self.host, "--port", str(self.port), "--seed",
               str(self.seed)]
        if self.data_dir:
            cmd += ["--data-dir", self.data_dir]
        if self.verbose:
            cmd.append("--verbose")
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
            stderr=None if self.verbose else subprocess.DEVNULL, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        line = self.proc.stdout.readline() if ready else ""
        if not line.startswith("READY "):
            self.stop()
            raise RuntimeError("refbackend did not start: %r" % line)
        self.url = line.split()[1]

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.backend.close()
            self.server.server_close()
            self.thread.join(5)
            self.server = None
        if self.proc:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
            self.proc.stdout.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- raw HTTP ----------------------------------------------------------
    def request(self, method, path, body=None, headers=None, timeout=30):
        """One HTTP exchange (no proxies). body: bytes, str or JSON value."""
        headers = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode("utf-8")
        conn = http.client.HTTPConnection(self.host, self.port,
                                          timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, {k.lower(): v for k, v in
                                          resp.getheaders()}, data)
        finally:
            conn.close()

    def api(self, method, path, body=None, token=None, attribution=True,
            headers=None):
        """A backend API call with Bearer + attribution headers."""
        h = dict(DEFAULT_ATTRIBUTION) if attribution else {}
        if token:
            h["Authorization"] = "Bearer " + token
        h.update(headers or {})
        return self.request(method, path, body, h)

    # -- control -----------------------------------------------------------
    def control(self, name, body=None, method=None, query=""):
        """POST (or GET for read-only names) /_control/<name>; returns data
        and raises RuntimeError on an error envelope."""
        method = method or ("GET" if name in GET_CONTROLS and body is None
                            else "POST")
        path = "/_control/" + name + (("?" + query) if query else "")
        resp = self.request(method, path, body if body is not None else
                            ({} if method == "POST" else None))
        env = resp.json
        if env.get("code") != 0:
            raise RuntimeError("control %s failed: %s" % (name, env))
        return env["data"]

    def requests(self, path=None, since=0, min_count=0, timeout=0.0,
                 done=False):
        q = "since=%d&min_count=%d&timeout_ms=%d&done=%d" % (
            since, min_count, int(timeout * 1000), done)
        if path:
            q += "&path=" + path
        return self.control("requests", query=q)["requests"]

    def wait_for_request(self, path, count=1, timeout=5.0, since=0,
                         done=False):
        """Block (bounded) until count requests to path (prefix) with a seq
        above since were logged (and answered, with done=True)."""
        found = self.requests(path, since, count, timeout, done)
        if len(found) < count:
            raise AssertionError("expected %d requests to %s, saw %d"
                                 % (count, path, len(found)))
        return found

    def clear_requests(self):
        return self.control("requests/clear")

    def fault(self, path, kind, **spec):
        return self.control("fault", dict(spec, path=path, kind=kind))

    def clear_faults(self):
        return self.control("fault/clear")

    def next_turn(self, mode="text", **spec):
        return self.control("next_turn", dict(spec, mode=mode))

    def config(self, **changes):
        return self.control("config", changes)["config"]

    def expire_token(self, token=None):
        return self.control("expire_token", {"token": token} if token
                            else {})

    def lose_session(self, session_id=None):
        return self.control("lose_session", {"session_id": session_id}
                            if session_id else {})

    def set_state(self, session_id, draft=None, **extra):
        body = dict(extra, session_id=session_id)
        if draft is not None:
            body["draft"] = draft
        return self.control("set_state", body)["session"]

    def state(self, session_id):
        return self.control("state", query="session_id=" + session_id)[
            "session"]

    def set_credits(self, available, token=None, frozen=None):
        body = {"available": available}
        if token:
            body["token"] = token
        if frozen is not None:
            body["frozen"] = frozen
        return self.control("credits", body)

    def issue_token(self, credits=None):
        return self.control("issue_token", {} if credits is None else
                            {"credits": credits})["token"]

    def reset(self):
        return self.control("reset")

    def info(self):
        return self.control("info")

    # -- conveniences ------------------------------------------------------
    def bootstrap(self, language="en", credits=None):
        """(token, session_id) ready for turns, without the rate limit."""
        token = self.issue_token(credits)
        resp = self.api("POST", "/api/tasks/me/with-session/nemo_agent",
                        {"task_name": "project", "language": language},
                        token)
        return token, resp.json["data"]["session_id"]

    def run_turn(self, token, session_id, text, timeout=30):
        """POST /run_sse; returns the Response plus .events (parsed JSON
        objects) and .text (the final text or None)."""
        resp = self.request("POST", "/run_sse", {
            "app_name": "nemo_agent", "user_id": "me",
            "session_id": session_id,
            "new_message": {"parts": [{"text": text}]}},
            dict(DEFAULT_ATTRIBUTION, Authorization="Bearer " + token,
                 Accept="text/event-stream"), timeout)
        resp.events, resp.text = [], None
        if resp.header("content-type") == "text/event-stream":
            resp.events = sse_events(resp.body)
            finals = [e["content"]["parts"][0]["text"] for e in resp.events
                      if e.get("turnComplete") and "content" in e]
            resp.text = finals[-1] if finals else None
        return resp


def start_backend(**opts):
    """Start a RefBackend; returns (backend, base_url). Call .stop()."""
    rb = RefBackend(**opts).start()
    return rb, rb.url


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description="NemoVideo reference backend")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--config", default=None,
                    help="JSON object of /_control/config settings")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    backend = Backend(args.seed, args.data_dir, args.verbose)
    server = RefServer((args.host, args.port), backend)
    if args.config:
        backend.set_config(json.loads(args.config))

    def on_signal(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sys.stdout.write("READY %s\n" % backend.base_url)
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        backend.close()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
