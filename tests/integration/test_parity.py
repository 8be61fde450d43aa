"""Both halves of every tool result say the same thing.

Claude Code hands the model only `structuredContent` when a tool has an
output schema; Gemini CLI hands it only the text. So every fact the model
needs (status, job handle, reply, questions, claim link, saved path, next
steps...) must be in both. This drives every tool through every kind of
result it has (success, a job handed back, errors) against the reference
backend and checks each field of the structured result against the text by
the rule in FIELDS. A field no rule knows fails the test: a new field must
be classified here, as a fact the text shows or as a detail it need not.
"""
import json
import os
import shutil
import unittest

from mcpclient import text_of
from tools_fixture import SAMPLE_MP4, SEED_DRAFT, ToolsCase


def fact(value, st, text, tool):
    """The value itself is in the text."""
    if isinstance(value, str) and not value:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        shown = ("%g" % value)
        return None if shown in text else f"{value!r} ({shown}) not in text"
    return None if str(value) in text else f"{value!r} not in text"


def detail(reason):
    """Not needed by the model, or shown in another form (reason says)."""
    def rule(value, st, text, tool):
        return None
    rule.reason = reason
    return rule


# How the text names a state that is not a plain word.
STATUS_WORDS = {"needs_input": "needs an answer"}


def status_rule(value, st, text, tool):
    # "completed" is what a plain answer means; every other state is named.
    word = STATUS_WORDS.get(value, value)
    if value == "completed" or word.lower() in text.lower():
        return None
    return f"status {value!r} ({word!r}) not in text"


def job_rule(value, st, text, tool):
    # The handle matters while there is still something to do with it.
    if st.get("status") in ("running", "cancelled"):
        return fact(value, st, text, tool)
    return None


def session_rule(value, st, text, tool):
    return fact(value, st, text, tool) if tool == "session" else None


def reset_rule(value, st, text, tool):
    if value and "no longer existed" not in text:
        return "session_reset is true but the text does not say so"
    return None


def created_rule(value, st, text, tool):
    want = "new" if value else "current"
    return None if want in text.lower() else f"created={value} not in text"


def actions_rule(value, st, text, tool):
    errs = []
    if value and "Next steps:" not in text:
        errs.append("actions but no 'Next steps:' in the text")
    for a in value:
        if f"`{a['tool']}`" not in text:
            errs.append(f"action {a['tool']} not in text")
        if a["why"] not in text:
            errs.append(f"action reason {a['why']!r} not in text")
        if a["arguments"] and json.dumps(a["arguments"],
                                         separators=(",", ":")) not in text:
            errs.append(f"action arguments {a['arguments']} not in text")
    return "; ".join(errs) or None


def each(rule):
    def check(value, st, text, tool):
        errs = [rule(v, st, text, tool) for v in value]
        return "; ".join(e for e in errs if e) or None
    return check


def objects(fields):
    """A list of objects, each field checked by its own rule."""
    def check(value, st, text, tool):
        errs = []
        for item in value:
            errs += check_fields(fields, item, text, tool)
        return "; ".join(errs) or None
    return check


def media_rule(value, st, text, tool):
    # The text lists the first five by name, else link (state.c's order).
    errs = []
    for m in value[:5]:
        label = next((m[k] for k in ("name", "title", "filename", "url",
                                     "type", "id")
                      if isinstance(m, dict) and isinstance(m.get(k), str)
                      and m[k]), None)
        if label and label not in text:
            errs.append(f"generated media {label!r} not in text")
    if len(value) > 5 and f"and {len(value) - 5} more" not in text:
        errs.append("more generated media than the text admits")
    return "; ".join(errs) or None


def tracks_rule(value, st, text, tool):
    missing = [seg["label"] for t in value for seg in t["segments"]
               if seg["label"] and seg["label"] not in text]
    return f"segment labels {missing} not in text" if missing else None


def one(fields):
    """A single object, each field checked by its own rule."""
    def check(value, st, text, tool):
        return "; ".join(check_fields(fields, value, text, tool)) or None
    return check


def applied_rule(value, st, text, tool):
    if value and "added the media to the session" not in text:
        return "session_state_applied is true but the text does not say so"
    return None


def file_url_rule(value, item, text, tool):
    # A link the model gave itself needs no repeating.
    return None if value == item.get("source") else fact(value, item, text,
                                                         tool)


QUESTION = {"id": detail("the answer goes back as text"), "prompt": fact,
            "options": each(fact)}
FILE = {
    "name": fact, "status": fact, "reason": fact, "url": file_url_rule,
    "source": detail("the path or link the model itself gave"),
    "bytes": detail("shown as a size (12.3 MB)"),
    "type": detail("the media family of an uploaded file"),
    "content_type": detail("the MIME type sent"),
    "file_type": fact, "duration": fact, "width": fact, "height": fact,
}
CANVAS = {"width": fact, "height": fact, "aspect_ratio": fact}
JOB = {"job": fact, "tool": fact, "status": fact,
       "age_ms": detail("shown as 'started 5s ago'"),
       "session": detail("the list is per session; named once")}

FIELDS = {
    "status": status_rule,
    "job": job_rule,
    "session": session_rule,
    "session_reset": reset_rule,
    "created": created_rule,
    "language": fact,
    "route": detail("which route answered; the reply is the answer"),
    "reply": fact,
    "actions": actions_rule,
    "timeline_changed": detail("the changes list says what changed"),
    "changes": each(fact),
    "timeline_summary": fact,
    "summary": fact,
    "generated_media": media_rule,
    "url": fact,
    "path": fact,
    "bytes": detail("shown as a size (12.3 MB)"),
    "render_id": detail("the job is the handle to use"),
    "elapsed_ms": detail("shown as '12s so far'"),
    "progress": fact,
    "note": fact,
    "tool": detail("the caller named the job; the text says what runs"),
    "jobs": objects(JOB),
    "available": fact,
    "frozen": fact,
    "total": fact,
    "uploaded": detail("counted from the per-file lines"),
    "rejected": detail("counted from the per-file lines"),
    "failed": detail("counted from the per-file lines"),
    "files": objects(FILE),
    "duration_ms": detail("the summary shows each segment's span"),
    "tracks": tracks_rule,
    "session_state_applied": applied_rule,
    "canvas": one(CANVAS),
    "claim_url": fact,
    "questions": objects(QUESTION),
}

# Backend id fields the upload copies into a file entry as they come.
for key in ("id", "file_id", "fileId", "media_id", "mediaId", "asset_id",
            "assetId", "video_id", "videoId", "upload_id", "uploadId"):
    FILE[key] = detail("the backend's own id; no tool takes it")


def check_fields(rules, obj, text, tool):
    """Each field of obj by its rule; a rule sees obj (its siblings)."""
    errs = []
    for key, value in obj.items():
        rule = rules.get(key)
        if rule is None:
            errs.append(f"{tool}: field {key!r} has no parity rule: add it "
                        f"to FIELDS in {os.path.basename(__file__)}")
            continue
        err = rule(value, obj, text, tool)
        if err:
            errs.append(f"{tool}.{key}: {err}")
    return errs


class Parity(ToolsCase):
    backend_config = {"silent_ratio": 0, "turn_ms": 30, "heartbeat_ms": 20}

    def setUp(self):
        super().setUp()
        self.kinds = set()

    def check(self, tool, args=None, kind=None, **kw):
        """Call, check both halves, record the kind of result seen."""
        res = self.call(tool, args or {}, **kw)
        text = text_of(res)
        self.assertTrue(text.strip(), f"{tool}: no text")
        st = res.get("structuredContent")
        if res.get("isError"):
            # Errors carry no structured part (hosts validate it against
            # the success schema), so the text is the whole answer.
            self.assertIsNone(st, f"{tool}: an error with structured "
                              "content must pass its facts through FIELDS")
            got = "error"
        else:
            self.assertIsInstance(st, dict, f"{tool}: no structuredContent")
            errs = check_fields(FIELDS, st, text, tool)
            self.assertEqual(errs, [], f"{tool} {args}\ntext: {text}\n"
                             f"structured: {json.dumps(st)[:1500]}")
            got = st.get("status", "ok")
            if got == "running":
                self.assertTrue(any(a["tool"] == "job" and
                                    a["arguments"] == {"job": st["job"]}
                                    for a in st.get("actions", [])),
                                f"{tool}: running without a `job` action")
            if got == "needs_input":
                self.assertTrue(any(a["tool"] == "generate"
                                    for a in st.get("actions", [])),
                                f"{tool}: a question without the way to "
                                "answer it in `actions`")
        if "Next steps:" in text:
            self.assertTrue(st and st.get("actions"),
                            f"{tool}: next steps only in the text: {text}")
        if kind:
            self.assertEqual(got, kind, f"{tool} {args}: {text}")
        self.kinds.add((tool, got))
        return res

    def put(self, name, data=None):
        path = os.path.join(self.work, name)
        if data is None:
            shutil.copy(SAMPLE_MP4, path)
        else:
            with open(path, "wb") as fh:
                fh.write(data)
        return path

    def test_every_tool_every_kind(self):
        self.check("credits", kind="ok")
        self.check("session", {"action": "current"}, kind="ok")
        sid = self.check("session", {"action": "new", "language": "en"},
                         kind="ok")["structuredContent"]["session"]
        self.rb.set_state(sid, draft=SEED_DRAFT)
        self.check("state", kind="ok")
        self.check("upload", {"files": [self.put("clip.mp4"),
                                        self.put("notes.txt", b"hi")],
                              "urls": ["https://media.example/a.mp4"]},
                   kind="ok")
        self.check("upload", {"files": [self.put("bad.txt", b"x")]},
                   kind="ok")

        # generate: each route, a turn with text, a silent edit, a turn
        # still running, collected and cancelled through `job`.
        for prompt in ("how many credits do I have?", "show tracks",
                       "upload my clip please"):
            self.check("generate", {"prompt": prompt}, kind="completed")
        self.rb.next_turn("text", text="Here is a plain answer.")
        self.check("generate", {"prompt": "what can you do?",
                                "wait_seconds": 30}, kind="completed")
        self.rb.next_turn("silent")
        self.check("generate", {"prompt": "add lo-fi music",
                                "wait_seconds": 30}, kind="completed")
        res = self.check("generate", {"prompt": "generate a video of a city "
                                      "at night", "wait_seconds": 30},
                         kind="completed")
        self.assertTrue(res["structuredContent"]["generated_media"])
        self.check("state", kind="ok")
        self.check("generate", {"prompt": "show tracks"}, kind="completed")
        # The agent asks a question (the host has no elicitation).
        self.check("generate", {"prompt": "make a video about cats [ask]",
                                "wait_seconds": 30}, kind="needs_input")
        self.check("generate", {"prompt": "16:9", "wait_seconds": 30},
                   kind="completed")
        self.rb.next_turn("text", delay_ms=1500, text="Slow but done.")
        job = self.check("generate", {"prompt": "make it cinematic",
                                      "wait_seconds": 0},
                         kind="running")["structuredContent"]["job"]
        self.check("job", {"job": job, "wait_seconds": 0}, kind="running")
        self.check("job", {"job": job, "wait_seconds": 60},
                   kind="completed")
        self.check("job", {"job": job, "cancel": True}, kind="completed")
        self.rb.next_turn("text", delay_ms=20000, text="never")
        job = self.check("generate", {"prompt": "add a title",
                                      "wait_seconds": 0},
                         kind="running")["structuredContent"]["job"]
        self.check("job", {"job": job, "cancel": True}, kind="cancelled")
        self.check("job", {"job": job, "wait_seconds": 0}, kind="cancelled")
        self.check("job", kind="ok")                       # the list

        # export: handed back, then collected with the download; the
        # export route of generate.
        out = os.path.join(self.work, "out.mp4")
        job = self.check("export", {"download_to": out, "wait_seconds": 0},
                         kind="running")["structuredContent"]["job"]
        self.check("job", {"job": job, "wait_seconds": 60},
                   kind="completed")
        self.check("generate", {"prompt": "export the video",
                                "wait_seconds": 30}, kind="completed")

        # Errors: bad arguments, an unknown job, an empty timeline, the
        # backend out of credits.
        self.check("generate", {"prompt": "x", "wait_seconds": 901},
                   kind="error")
        self.check("job", {"job": "job-does-not-exist"}, kind="error")
        self.check("export", {"download_to": out}, kind="error")  # exists
        self.rb.fault("/api/credits", "code", code=2001)
        self.check("credits", kind="error")
        self.check("session", {"action": "new"}, kind="ok")
        self.check("export", {}, kind="error")              # empty timeline

        want = {("credits", "ok"), ("credits", "error"), ("session", "ok"),
                ("state", "ok"), ("upload", "ok"),
                ("generate", "completed"), ("generate", "running"),
                ("generate", "needs_input"),
                ("generate", "error"), ("job", "running"),
                ("job", "completed"), ("job", "cancelled"), ("job", "ok"),
                ("job", "error"), ("export", "running"),
                ("export", "error")}
        self.assertEqual(want - self.kinds, set())

    def test_upload_handed_back_as_a_task(self):
        big = self.put("big.mp4")
        with open(big, "r+b") as fh:
            fh.truncate(60 * 1024 * 1024)     # above the 50 MB threshold
        caps = {"extensions": {"io.modelcontextprotocol/tasks": {}}}
        r = self.mcp.request("tools/call", {"name": "upload",
                                            "arguments": {"files": [big]}},
                             meta=self.mcp.stateless_meta(capabilities=caps))
        task = r["result"]["taskId"]
        self.check("job", {"job": task, "wait_seconds": 0})
        self.check("job", {"job": task, "wait_seconds": 60}, kind="ok")

    def test_config_problem_is_an_error_everywhere(self):
        mcp = self.start_server({"NEMO_API_BASE": "http://example.com"})
        for tool, args in (("credits", {}), ("session", {"action": "new"}),
                           ("state", {}), ("job", {})):
            res = self.check(tool, args, kind="error", mcp=mcp)
            self.assertIn("NEMO_API_BASE", text_of(res))


if __name__ == "__main__":
    unittest.main()
