#!/usr/bin/env python3
"""Start nemo-mcp, send initialize + initialized + tools/list; report the
time from spawn to the tools/list answer (median of N runs) and the idle
RSS (VmRSS, /proc/<pid>/status) 200 ms after that answer.

    python3 tools/startprobe.py [BINARY] [RUNS] [-v]   (-v: smaps_rollup)

`python3 tools/startprobe.py /bin/cat` gives the floor of this harness
(cat echoes the three lines, the third has id 2): Python's spawn and pipe
costs, about 1.5 ms here."""
import json, os, statistics, subprocess, sys, tempfile, time

def once(binary, env, want_rss):
    msgs = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "probe", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    data = "".join(json.dumps(m) + "\n" for m in msgs).encode()
    t0 = time.perf_counter()
    p = subprocess.Popen([binary], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    p.stdin.write(data)
    p.stdin.flush()
    while True:
        line = p.stdout.readline()
        if not line:
            raise SystemExit("server closed stdout")
        if json.loads(line).get("id") == 2:
            break
    dt = (time.perf_counter() - t0) * 1000
    rss = smaps = None
    if want_rss:
        time.sleep(0.2)
        with open("/proc/%d/status" % p.pid) as f:
            for l in f:
                if l.startswith("VmRSS"):
                    rss = int(l.split()[1])
        with open("/proc/%d/smaps_rollup" % p.pid) as f:
            smaps = f.read()
        with open("/proc/%d/maps" % p.pid) as f:
            maps = f.read()
        smaps += "\nlibcurl mapped: %s\n" % ("libcurl" in maps)
    p.stdin.close()
    p.wait(5)
    return dt, rss, smaps

def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/nemo-mcp"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    env = dict(os.environ)
    env["NEMO_CONFIG_DIR"] = tempfile.mkdtemp(prefix="probe-")
    env.pop("NEMO_API_BASE", None)
    skill = os.path.join(os.path.dirname(os.path.abspath(binary)), "..", "SKILL.md")
    if os.path.exists(skill):
        env.setdefault("NEMO_SKILL_FILE", os.path.abspath(skill))
    once(binary, env, False)  # warm the page cache
    times = [once(binary, env, False)[0] for _ in range(runs)]
    _, rss, smaps = once(binary, env, True)
    print("start->tools/list: median %.2f ms, min %.2f, max %.2f (%d runs)"
          % (statistics.median(times), min(times), max(times), runs))
    print("idle VmRSS: %d kB" % rss)
    if "-v" in sys.argv:
        print(smaps)

main()
