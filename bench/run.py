#!/usr/bin/env python3
"""nemo-mcp benchmark (not a test): `make bench`, or

    python3 bench/run.py [--build build] [--runs 30] [--pings 1000]
                         [--upload-mb 500] [--only start,rss,ping,upload]

Measures, side by side in one run, build/nemo-mcp and an equivalent minimal
server on the official TypeScript SDK (bench/ts-server, same seven tools):

  start   process start -> tools/list answer (initialize, initialized and
          tools/list written at once), median and p95 over --runs starts
  rss     idle resident memory (VmRSS) after the handshake and a tools/list
  ping    ping round trip p50/p99 while four tool calls are in flight
          (nemo-mcp: four `generate` calls held by slow reference-backend
          turns; TS: four calls awaiting a long timer)
  upload  nemo-mcp only: a 500 MB MP4 through the `upload` tool to the
          reference backend, peak RSS (VmHWM) and throughput against
          `curl -F files=@file` to the same loopback sink in the same run

Prints a table, whether each target was met, and writes bench/out/results.json.
Exit status is non-zero only when the benchmark itself crashed.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from mcppipe import McpPipe, McpPipeError, proc_status  # noqa: E402

TARGETS = {
    "start_ms_median": ("start -> tools/list", 5.0, "ms", "<"),
    "idle_rss_kb": ("idle RSS", 4 * 1024, "kB", "<"),
    "ping_p99_ms": ("ping p99, 4 calls in flight", 2.0, "ms", "<"),
    "upload_peak_rss_kb": ("upload peak RSS (VmHWM)", 16 * 1024, "kB", "<"),
    "upload_vs_curl": ("upload throughput / curl", 0.80, "x", ">="),
}
TURN_MS = 60000          # a held `generate` turn outlasts the ping phase
MB = 1000 * 1000


def pct(values, p):
    """Nearest-rank percentile."""
    s = sorted(values)
    if not s:
        return None
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def load_refbackend():
    path = os.environ.get("NEMO_REFBACKEND") or os.path.join(
        ROOT, "tests", "backend", "refbackend.py")
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    import refbackend  # noqa: E402
    return refbackend


# ---------------------------------------------------------------------------
# The two servers

class Server:
    def __init__(self, name, argv, env):
        self.name, self.argv, self.env = name, argv, env

    def spawn(self):
        return McpPipe(self.argv, env=self.env, cwd=ROOT)


def nemo_server(build, backend_url, config_dir):
    binary = os.path.join(build, "nemo-mcp")
    if not os.access(binary, os.X_OK):
        raise SystemExit("bench: no %s (run make)" % binary)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_")
           and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env.update({"NO_PROXY": "127.0.0.1,localhost", "NEMO_API_BASE": backend_url,
                "NEMO_CONFIG_DIR": config_dir, "NEMO_LOG": "error",
                "NEMO_STATE_DIR": os.path.join(config_dir, "state"),
                "NEMO_SKILL_FILE": os.path.join(ROOT, "SKILL.md")})
    return Server("nemo-mcp", [binary], env)


def ts_server():
    """The TypeScript SDK server, installing its lockfile's packages on first
    use. None (with a reason) when node or npm is missing."""
    base = os.path.join(HERE, "ts-server")
    node = shutil.which("node")
    if not node:
        return None, "node not found"
    if not os.path.isdir(os.path.join(base, "node_modules")):
        npm = shutil.which("npm")
        if not npm:
            return None, "npm not found"
        proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund",
                               "--loglevel=error"], cwd=base,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            return None, "npm ci failed: " + proc.stderr[-500:]
    env = dict(os.environ)
    env.setdefault("NEMO_SCHEMAS_DIR", os.path.join(ROOT, "schemas"))
    return Server("ts-sdk", [node, os.path.join(base, "server.mjs")], env), ""


# ---------------------------------------------------------------------------
# (a) start -> tools/list, (b) idle RSS

def start_once(server):
    """ms from spawn to the tools/list answer, and the live client."""
    t0 = time.perf_counter()
    mcp = server.spawn()
    init, note = mcp.handshake_msgs()
    tl = mcp.request_msg("tools/list")
    mcp.write(init, note, tl)
    resp = mcp.wait(tl["id"], timeout=30)
    ms = (time.perf_counter() - t0) * 1000
    if "error" in resp or len(resp["result"].get("tools", [])) != 7:
        mcp.close()
        raise McpPipeError("%s: bad tools/list answer: %s"
                           % (server.name, json.dumps(resp)[:300]))
    return ms, mcp


def bench_start(server, runs):
    start_once(server)[1].close()          # warm the page cache
    times = []
    for _ in range(runs):
        ms, mcp = start_once(server)
        times.append(ms)
        mcp.close()
    return {"start_ms_median": statistics.median(times),
            "start_ms_p95": pct(times, 95), "start_ms_min": min(times),
            "start_runs": runs}


def bench_rss(server):
    _, mcp = start_once(server)
    try:
        mcp.call("tools/list")
        mcp.call("ping")
        # Idle: nothing in flight; give timers a few beats, then read.
        time.sleep(0.25)
        last = proc_status(mcp.pid, ("VmRSS", "VmHWM", "RssAnon", "RssFile",
                                     "RssShmem", "Threads"))
        return {"idle_rss_kb": last.get("VmRSS"),
                "idle_hwm_kb": last.get("VmHWM"),
                "idle_rss_anon_kb": last.get("RssAnon"),
                "idle_rss_file_kb": last.get("RssFile"),
                "idle_threads": last.get("Threads")}
    finally:
        mcp.close()


def spawn_ms(argv, runs, env=None):
    """Median ms to spawn argv and see it exit (stdio to /dev/null)."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=env)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def bench_floors(server, runs):
    """Context for (a): what spawning /bin/true costs here, and the server's
    own `--version` (process start, dynamic linking, exit; no MCP)."""
    out = {"version_exit_ms_median": spawn_ms(server.argv + ["--version"], runs,
                                              server.env)}
    return out


# ---------------------------------------------------------------------------
# (c) ping round trip with four calls in flight

def ping_series(mcp, count):
    for _ in range(20):                    # warm-up, not counted
        mcp.call("ping")
    rtts = []
    for _ in range(count):
        msg = mcp.request_msg("ping")
        t0 = time.perf_counter()
        mcp.write(msg)
        resp = mcp.wait(msg["id"], timeout=10)
        rtts.append((time.perf_counter() - t0) * 1000)
        if "error" in resp:
            raise McpPipeError("ping: %s" % resp["error"])
    return rtts


def bench_ping(server, pings, backend=None):
    mcp = server.spawn()
    held = []
    try:
        mcp.initialize()
        mcp.call("tools/list")
        opened = None
        if backend is not None:
            for _ in range(4):
                backend.next_turn("slow", delay_ms=TURN_MS)
            mcp.call("tools/call", {"name": "session",
                                    "arguments": {"action": "current"}})
            seen = len(backend.requests("/run_sse"))
        for i in range(4):
            msg = mcp.request_msg("tools/call", {
                "name": "generate",
                "arguments": {"prompt": "make a city timelapse clip %d" % i,
                              "wait_seconds": TURN_MS // 1000},
                "_meta": {"progressToken": "bench-%d" % i}})
            mcp.write(msg)
            held.append(msg["id"])
        if backend is not None:
            # Wait (bounded) until the agent streams are open; a server that
            # serialises turns per session opens fewer.
            found = backend.requests("/run_sse", min_count=seen + 4,
                                     timeout=3.0)
            opened = len(found) - seen
        rtts = ping_series(mcp, pings)
        early = [i for i in held if i in mcp.answers]
        if early:
            raise McpPipeError("%s: %d held call(s) answered during the ping "
                               "phase: %s" % (server.name, len(early),
                                              json.dumps(mcp.answers[early[0]])[:300]))
        out = {"ping_p50_ms": pct(rtts, 50), "ping_p99_ms": pct(rtts, 99),
               "ping_max_ms": max(rtts), "pings": len(rtts),
               "ping_notifications_seen": mcp.notifications}
        if opened is not None:
            out["ping_agent_streams_open"] = opened
        return out
    finally:
        for i in held:
            try:
                mcp.cancel(i)
            except OSError:
                pass
        mcp.close()


# ---------------------------------------------------------------------------
# (d) upload: nemo-mcp's `upload` tool vs curl -F, same loopback sink

FTYP = (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
        b"\x00\x00\x00\x08free")


def make_mp4(path, size):
    """A real (not sparse) file of `size` bytes starting with an ftyp box."""
    block = bytearray(1 << 20)
    with open(path, "wb") as f:
        f.write(FTYP)
        left = size - len(FTYP)
        while left > 0:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n
        f.flush()
        os.fsync(f.fileno())


def curl_upload(backend, path, token, sid):
    url = "%s/api/upload-video/nemo_agent/me/%s" % (backend.url, sid)
    t0 = time.perf_counter()
    proc = subprocess.run(
        ["curl", "-sS", "--noproxy", "*", "-o", "-", "-w", "\n%{http_code}",
         "-H", "Authorization: Bearer " + token, "-F", "files=@" + path, url],
        capture_output=True, text=True)
    secs = time.perf_counter() - t0
    body, _, code = proc.stdout.rpartition("\n")
    if proc.returncode != 0 or code != "200" or '"code":0' not in body.replace(" ", ""):
        raise McpPipeError("curl upload failed (%s, HTTP %s): %s %s"
                           % (proc.returncode, code, body[:300], proc.stderr[:300]))
    return secs


class RssSampler(threading.Thread):
    def __init__(self, pid, every=0.01):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak_rss = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            rss = proc_status(self.pid).get("VmRSS", 0)
            self.peak_rss = max(self.peak_rss, rss)
            self.stop.wait(self.every)


def nemo_upload(mcp, path, size):
    sampler = RssSampler(mcp.pid)
    sampler.start()
    t0 = time.perf_counter()
    try:
        result = mcp.call("tools/call", {"name": "upload",
                                         "arguments": {"files": [path]}},
                          timeout=600)
    finally:
        secs = time.perf_counter() - t0
        sampler.stop.set()
        sampler.join()
    files = (result.get("structuredContent") or {}).get("files") or []
    if result.get("isError") or not files or \
            files[0].get("status") != "uploaded" or files[0].get("bytes") != size:
        raise McpPipeError("upload tool failed: %s" % json.dumps(result)[:600])
    hwm = proc_status(mcp.pid).get("VmHWM")
    return secs, hwm, sampler.peak_rss


def clear_dir(path):
    for name in os.listdir(path):
        try:
            os.unlink(os.path.join(path, name))
        except OSError:
            pass


def bench_upload(server, backend, sink_dir, size_mb, rounds=5):
    """Rounds of one curl and one nemo-mcp upload, in alternating order;
    the sink's stored copies are deleted after each upload so write-back
    of earlier rounds does not slow later ones."""
    tmp = tempfile.mkdtemp(prefix="nemo-bench-upload-")
    path = os.path.join(tmp, "bench.mp4")
    size = size_mb * MB
    mcp = None
    try:
        make_mp4(path, size)
        token = backend.issue_token()
        sid = backend.api("POST", "/api/tasks/me/with-session/nemo_agent",
                          {"task_name": "bench", "language": "en"},
                          token).json["data"]["session_id"]
        mcp = server.spawn()
        mcp.initialize()
        mcp.call("tools/call", {"name": "session",
                                "arguments": {"action": "current"}})
        before = proc_status(mcp.pid)
        curl_s, nemo_s, ratios, hwm, peak = [], [], [], None, 0
        for r in range(rounds):
            for who in (("curl", "nemo") if r % 2 == 0 else ("nemo", "curl")):
                if who == "curl":
                    curl_s.append(curl_upload(backend, path, token, sid))
                else:
                    secs, hwm, p = nemo_upload(mcp, path, size)
                    nemo_s.append(secs)
                    peak = max(peak, p)
                clear_dir(sink_dir)
            ratios.append(curl_s[-1] / nemo_s[-1])
        # The Python sink bounds both clients and other load on the machine
        # moves it between rounds: compare within each round, take the median.
        return {"upload_bytes": size,
                "upload_rounds": rounds,
                "upload_curl_s": curl_s, "upload_nemo_s": nemo_s,
                "upload_curl_MBps": size / MB / statistics.median(curl_s),
                "upload_nemo_MBps": size / MB / statistics.median(nemo_s),
                "upload_vs_curl": statistics.median(ratios),
                "upload_round_ratios": ratios,
                "upload_rss_before_kb": before.get("VmRSS"),
                "upload_peak_rss_kb": hwm,
                "upload_sampled_peak_rss_kb": peak}
    finally:
        if mcp:
            mcp.close()
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# Report

def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return "%.2f%s" % (v, unit)
    return "%s%s" % (v, unit)


def verdict(key, value):
    if key not in TARGETS or value is None:
        return ""
    _, limit, unit, op = TARGETS[key]
    met = value < limit if op == "<" else value >= limit
    shown = "%g %s" % (limit, unit) if unit != "x" else "%.0f%%" % (limit * 100)
    return "%s (target %s %s)" % ("MET" if met else "MISSED", op, shown)


def print_table(results):
    n, t = results["servers"].get("nemo-mcp", {}), results["servers"].get("ts-sdk", {})
    rows = [
        ("start -> tools/list median", "start_ms_median", " ms"),
        ("start -> tools/list p95", "start_ms_p95", " ms"),
        ("  process start + exit (--version)", "version_exit_ms_median", " ms"),
        ("idle RSS (VmRSS)", "idle_rss_kb", " kB"),
        ("  of which anonymous (RssAnon)", "idle_rss_anon_kb", " kB"),
        ("  of which file-backed (RssFile)", "idle_rss_file_kb", " kB"),
        ("  threads", "idle_threads", ""),
        ("ping p50, 4 calls in flight", "ping_p50_ms", " ms"),
        ("ping p99, 4 calls in flight", "ping_p99_ms", " ms"),
        ("ping max", "ping_max_ms", " ms"),
        ("  agent streams open meanwhile", "ping_agent_streams_open", ""),
    ]
    print()
    print("%-32s %14s %14s   %s" % ("", "nemo-mcp", "ts-sdk", "nemo-mcp vs target"))
    for label, key, unit in rows:
        print("%-32s %14s %14s   %s" % (label, fmt(n.get(key), unit),
                                       fmt(t.get(key), unit), verdict(key, n.get(key))))
    if "upload_bytes" in n:
        print()
        print("upload %d MB (%d rounds, order alternating; medians):" % (
            n["upload_bytes"] // MB, n["upload_rounds"]))
        print("  curl -F                %10.1f MB/s" % n["upload_curl_MBps"])
        print("  nemo-mcp upload tool   %10.1f MB/s   %.0f%% of curl   %s" % (
            n["upload_nemo_MBps"], 100 * n["upload_vs_curl"],
            verdict("upload_vs_curl", n["upload_vs_curl"])))
        print("  nemo-mcp peak RSS      %10s kB          %s" % (
            n["upload_peak_rss_kb"], verdict("upload_peak_rss_kb", n["upload_peak_rss_kb"])))
    for err in results["errors"]:
        print("error: %s" % err)
    print()
    m = results["machine"]
    print("spawn floor (/bin/true): %.2f ms; %s x%s; load average %s" % (
        results["spawn_floor_ms"], m["cpu"], m["cpus"],
        " ".join("%.2f" % x for x in m["loadavg_at_start"])))


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version(),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--pings", type=int, default=1000)
    ap.add_argument("--upload-mb", type=int, default=500)
    ap.add_argument("--only", default="start,rss,ping,upload")
    ap.add_argument("--out", default=os.path.join(HERE, "out", "results.json"))
    args = ap.parse_args()
    build = os.path.abspath(os.path.join(ROOT, args.build))
    only = set(args.only.split(","))
    started = time.time()

    refbackend = load_refbackend()
    # The sink stores uploads: in RAM (tmpfs) when there is room, so disk
    # write-back does not pace the upload comparison.
    shm = "/dev/shm"
    sink_base = shm if os.path.isdir(shm) and shutil.disk_usage(shm).free > \
        3 * args.upload_mb * MB else None
    sink_dir = tempfile.mkdtemp(prefix="nemo-bench-sink-", dir=sink_base)
    backend = refbackend.RefBackend(subprocess=True, data_dir=sink_dir).start()
    config_dir = tempfile.mkdtemp(prefix="nemo-bench-cfg-")
    results = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(),
               "servers": {"nemo-mcp": {}, "ts-sdk": {}}, "errors": [],
               "targets": {k: {"what": v[0], "limit": v[1], "unit": v[2], "op": v[3]}
                           for k, v in TARGETS.items()}}
    try:
        servers = [nemo_server(build, backend.url, config_dir)]
        ts, why = ts_server()
        if ts:
            servers.append(ts)
        else:
            results["errors"].append("ts-sdk server skipped: " + why)
        results["spawn_floor_ms"] = spawn_ms([shutil.which("true") or "/bin/true"], 20)
        for srv in servers:
            out = results["servers"][srv.name]
            steps = [("start", lambda s=srv: dict(bench_start(s, args.runs),
                                                   **bench_floors(s, 20))),
                     ("rss", lambda s=srv: bench_rss(s)),
                     ("ping", lambda s=srv: bench_ping(
                         s, args.pings, backend if s.name == "nemo-mcp" else None))]
            if srv.name == "nemo-mcp":
                steps.append(("upload", lambda s=srv: bench_upload(
                    s, backend, sink_dir, args.upload_mb)))
            for name, fn in steps:
                if name not in only:
                    continue
                print("bench: %s %s ..." % (srv.name, name), file=sys.stderr, flush=True)
                try:
                    out.update(fn())
                except (McpPipeError, OSError, ValueError, KeyError) as e:
                    results["errors"].append("%s %s: %s" % (srv.name, name, e))
        n = results["servers"]["nemo-mcp"]
        results["met"] = {k: verdict(k, n.get(k)).startswith("MET")
                          for k in TARGETS if n.get(k) is not None}
    finally:
        backend.stop()
        shutil.rmtree(config_dir, ignore_errors=True)
        shutil.rmtree(sink_dir, ignore_errors=True)
    results["seconds"] = round(time.time() - started, 1)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    print_table(results)
    print("results: %s (%.0f s)" % (os.path.relpath(args.out, ROOT), results["seconds"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
