#!/usr/bin/env python3
"""Peak memory of nemo-mcp under the hostile-input matrix of issue 11.

Each attack of tests/backend/hostile_mem.py is run against a fresh config
dir with `nemo-mcp call generate` (and `call state` for the draft attacks);
the peak RSS of the process comes from wait4(), the largest journal record
from the config dir. Prints a Markdown table; exits 1 when a run goes over
the target (64 MB) or crashes.

    python3 bench/hostile_rss.py [--build build] [--quick] [--only TEXT]

--quick shrinks the stream attacks (40 x 1 MB instead of 400 x 1 MB); the
README's figures are from the full run. Not part of `make test`: this is a
measurement, it takes about a minute.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "backend"))
from hostile_mem import HostileMem  # noqa: E402

TARGET_MB = 64


def matrix(quick):
    n = 40 if quick else 400
    return [
        ("baseline: a plain turn", "ok", {}, "generate"),
        ("#4 %d final texts of 1 MB" % n, "texts",
         {"count": n, "size": 1 << 20}, "generate"),
        ("#4 %d partial chunks of 1 MB" % n, "partials",
         {"count": n, "size": 1 << 20}, "generate"),
        ("#4 20,000 texts, each repeated", "dups", {"count": 20000},
         "generate"),
        ("#4 a 5 MB SSE line", "long_line", {"size": 5 << 20}, "generate"),
        ("#5 31 MB draft of [0,0,...] (state)", "draft_nodes", {"mb": 31},
         "state"),
        ("#5 31 MB draft of [0,0,...] (generate)", "draft_nodes", {"mb": 31},
         "generate"),
        ("#5 draft nested 100,000 deep", "draft_deep", {"depth": 100000},
         "generate"),
        ("#5 valid draft at both caps: 4 MB, 95,000 values (state)",
         "draft_big", {"segs": 19000, "label": 165}, "state"),
        ("#5 valid draft at both caps: 4 MB, 95,000 values (generate)",
         "draft_big", {"segs": 19000, "label": 165}, "generate"),
        ("#5 valid draft at the value cap, small strings (state)",
         "draft_big", {"segs": 19500, "label": 4}, "state"),
        ("#5 valid draft at the value cap, small strings (generate)",
         "draft_big", {"segs": 19500, "label": 4}, "generate"),
        ("#13 502 with an empty body", "empty_error", {"status": 502},
         "generate"),
        ("#14 forged status line in the headers", "forged_header", {},
         "state"),
        ("#15 envelope code 1e19", "code_huge", {}, "generate"),
        ("#17 Click ****...Export**** (200 KB)", "gui_runs",
         {"size": 200000}, "generate"),
    ]


def peakrss_tool(tmp):
    """tools/peakrss.c, compiled once per run: ru_maxrss of a child forked
    from Python would include Python's own memory (see the tool)."""
    exe = os.path.join(tmp, "peakrss")
    if not os.path.exists(exe):
        subprocess.run(["cc", "-O1", "-o", exe,
                        os.path.join(ROOT, "tools", "peakrss.c")], check=True)
    return exe


def run_measured(binary, url, tool, tmp):
    conf = tempfile.mkdtemp(dir=tmp)
    env = dict(os.environ, NEMO_API_BASE=url, NEMO_TOKEN="tok_" + "h" * 40,
               NEMO_CONFIG_DIR=conf, NEMO_STATE_DIR=os.path.join(conf, "st"),
               HOME=tmp, NEMO_LOG="error",
               NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env.pop(k, None)
    args = [binary, "call", tool]
    if tool == "generate":
        args.append("prompt=add some music")
    report = os.path.join(conf, "peakrss.out")
    t0 = time.monotonic()
    proc = subprocess.run([peakrss_tool(tmp), report] + args, env=env,
                          capture_output=True, timeout=900)
    secs = time.monotonic() - t0
    out, err = proc.stdout, proc.stderr
    with open(report) as fh:
        kb, code = (int(x) for x in fh.read().split())
    journal = 0
    jobs = os.path.join(conf, "st", "jobs")
    if os.path.isdir(jobs):
        for name in os.listdir(jobs):
            if name.endswith(".json"):
                journal = max(journal, os.path.getsize(
                    os.path.join(jobs, name)))
    os.unlink(report)
    return code, out, err, secs, kb / 1024.0, journal


def outcome(code, out, err):
    text = (out or err).decode("utf-8", "replace").strip()
    if code > 4:
        return "CRASH (exit %d)" % code
    first = text.splitlines()[0] if text else ""
    if "(cut:" in text:
        first = "reply cut: " + first[:40]
    return ("ok: " if code == 0 else "error: ") + first[:90]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="", help="attacks whose name has this")
    a = ap.parse_args()
    binary = os.path.join(a.build, "nemo-mcp")
    worst = 0.0
    bad = 0
    print("| attack | tool | peak RSS | journal record | time | outcome |")
    print("|---|---|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp, HostileMem() as hb:
        for name, mode, params, tool in matrix(a.quick):
            if a.only not in name:
                continue
            hb.set(mode, **params)
            code, out, err, secs, rss, journal = run_measured(
                binary, hb.url, tool, tmp)
            worst = max(worst, rss)
            res = outcome(code, out, err)
            if rss >= TARGET_MB or res.startswith("CRASH"):
                bad += 1
            print("| %s | %s | %.1f MB | %s | %.1f s | %s |" % (
                name, tool, rss, ("%.1f KB" % (journal / 1024.0))
                if journal else "-", secs, res.replace("|", "\\|")))
            sys.stdout.flush()
    print("\nworst peak RSS: %.1f MB (target < %d MB)" % (worst, TARGET_MB))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
