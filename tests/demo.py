#!/usr/bin/env python3
"""`make demo`: start the reference backend and drive build/nemo-mcp through
a real MCP session over stdio, the way a host would:

    credits -> upload a sample image -> generate "animate this image ..."
    -> state -> export with download

It prints what each step did and where the MP4 landed."""
import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "backend"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from mcpclient import McpProcess, text_of  # noqa: E402
from refbackend import RefBackend  # noqa: E402

PROMPT = "animate this image into a 5-second video with smooth motion"


def step(title):
    print(f"\n== {title}")


def show(result):
    text = text_of(result)
    print("   " + text.replace("\n", "\n   "))
    if result.get("isError"):
        raise SystemExit(f"demo: the step failed: {text}")
    return result.get("structuredContent") or {}


def call(mcp, name, args, progress=True):
    token = f"demo-{name}-{time.monotonic_ns()}" if progress else None
    before = len(mcp.notifications("notifications/progress"))
    r = mcp.call_tool(name, args, progress_token=token, timeout=300)
    if "error" in r:
        raise SystemExit(f"demo: {name} -> {r['error']}")
    for n in mcp.notifications("notifications/progress")[before:]:
        if n["params"].get("progressToken") == token:
            print(f"   … {n['params'].get('message', '')}")
    return r["result"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=None, help="where to put the MP4")
    args = ap.parse_args()
    binary = os.path.join(ROOT, args.build, "nemo-mcp")
    out_dir = args.out or os.path.join(ROOT, args.build, "demo")
    os.makedirs(out_dir, exist_ok=True)
    sample = os.path.join(ROOT, "tests", "fixtures", "sample.png")

    with RefBackend(seed=7) as rb, \
            tempfile.TemporaryDirectory(prefix="nemo-demo-") as cfg:
        print(f"reference backend: {rb.url}")
        env = {"NEMO_API_BASE": rb.url, "NEMO_RENDER_POLL_MS": "300",
               "NEMO_HEARTBEAT_MS": "2000", "NO_PROXY": "127.0.0.1",
               "NEMO_SKILL_FILE": os.path.join(ROOT, "SKILL.md")}
        with McpProcess(env=env, config_dir=cfg, binary=binary) as mcp:
            init = mcp.initialize()["result"]
            info = init["serverInfo"]
            tools = mcp.request("tools/list")["result"]["tools"]
            print(f"connected to {info['name']} {info['version']} "
                  f"(MCP {init['protocolVersion']}), "
                  f"{len(tools)} tools: "
                  + ", ".join(t["name"] for t in tools))

            step("credits")
            show(call(mcp, "credits", {}, progress=False))

            step(f"upload {os.path.relpath(sample, ROOT)}")
            show(call(mcp, "upload", {"files": [sample]}))

            step(f"generate: \"{PROMPT}\"")
            st = show(call(mcp, "generate", {"prompt": PROMPT,
                                             "wait_seconds": 60}))
            while st.get("status") == "running":
                print(f"   still running; collecting job {st['job']}")
                st = show(call(mcp, "job", {"job": st["job"],
                                            "wait_seconds": 60}))

            step("state")
            show(call(mcp, "state", {}, progress=False))

            step(f"export, download to {os.path.relpath(out_dir, ROOT)}/")
            ex = show(call(mcp, "export", {"download_to": out_dir,
                                           "overwrite": True,
                                           "wait_seconds": 120}))
            while ex.get("status") == "running":
                ex = show(call(mcp, "job", {"job": ex["job"],
                                            "wait_seconds": 120}))
            path = ex.get("path")
            if not path or not os.path.isfile(path):
                raise SystemExit("demo: the export did not produce a file")
            size = os.path.getsize(path)
            with open(path, "rb") as fh:
                head = fh.read(12)
            print(f"\nMP4: {path} ({size} bytes, "
                  f"{'ftyp box ok' if head[4:8] == b'ftyp' else 'NOT an MP4'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
