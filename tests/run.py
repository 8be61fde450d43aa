#!/usr/bin/env python3
"""Run every test suite and print one closing line: `N passed, N failed`.

Suites:
  unit         build/tests/test_* C binaries ("ok name" / "not ok name" lines)
  backend      tests/backend/test_*.py (the reference backend's self-tests)
  integration  tests/integration/test_*.py (binary + reference backend)
  interop      tests/interop/run.mjs (official MCP SDK clients, via node)

  portable     with --portable DIR: unit + integration again, against the
               build with the macOS/POSIX code paths (`make portable`), in a
               child run whose results join this tally as portable/...

Usage: tests/run.py [--build DIR] [--only SUITE[,SUITE]] [-k PATTERN]
                    [--portable DIR]
"""
import argparse
import glob
import os
import subprocess
import sys
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []

    def ok(self, name):
        self.passed += 1

    def fail(self, name, detail=""):
        self.failed += 1
        self.failures.append((name, detail))
        print(f"FAIL {name}")
        if detail:
            print("    " + detail.strip().replace("\n", "\n    "))


def run_unit(build, tally, pattern):
    bins = sorted(glob.glob(os.path.join(build, "tests", "test_*")))
    if not bins:
        tally.fail("unit: no test binaries", f"nothing in {build}/tests")
    for path in bins:
        name = os.path.basename(path)
        if pattern and pattern not in name:
            continue
        try:
            proc = subprocess.run([path], capture_output=True, text=True,
                                  timeout=300, cwd=ROOT)
        except subprocess.TimeoutExpired:
            tally.fail(f"unit/{name}", "timed out")
            continue
        seen = 0
        detail = []
        for line in proc.stdout.splitlines():
            if line.startswith("ok "):
                seen += 1
                tally.ok(f"unit/{name}/{line[3:]}")
            elif line.startswith("not ok "):
                seen += 1
                tally.fail(f"unit/{name}/{line[7:]}", "\n".join(detail))
                detail = []
            elif line.startswith("#   "):
                detail.append(line[4:])
        if proc.returncode != 0 and (seen == 0 or tally.failed == 0):
            tally.fail(f"unit/{name}",
                       f"exit {proc.returncode}\n{proc.stderr[-3000:]}")
        elif proc.returncode != 0 and proc.stderr.strip():
            print(proc.stderr[-3000:])


class CountingResult(unittest.TextTestResult):
    def __init__(self, tally, *a, **kw):
        super().__init__(*a, **kw)
        self.tally = tally

    def addSuccess(self, test):
        super().addSuccess(test)
        self.tally.ok(test.id())

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.tally.fail(test.id(), self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self.tally.fail(test.id(), self._exc_info_to_string(err, test))

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.tally.fail(subtest.id(), self._exc_info_to_string(err, test))

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.tally.fail(test.id(), "unexpected success")


def run_python(directory, tally, pattern):
    path = os.path.join(ROOT, directory)
    if not glob.glob(os.path.join(path, "test_*.py")):
        return
    loader = unittest.TestLoader()
    if pattern:
        loader.testNamePatterns = [f"*{pattern}*"]
    suite = loader.discover(path, pattern="test_*.py", top_level_dir=path)
    runner = unittest.TextTestRunner(
        stream=sys.stdout, verbosity=1,
        resultclass=lambda *a, **kw: CountingResult(tally, *a, **kw))
    runner.run(suite)


def npm_ci(base, tally, what):
    """Install the pinned node packages of base once; False on failure."""
    if os.path.isdir(os.path.join(base, "node_modules")):
        return True
    proc = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"],
                          cwd=base, capture_output=True, text=True)
    if proc.returncode != 0:
        tally.fail(f"{what}: npm ci", proc.stderr[-2000:])
        return False
    return True


def run_interop(tally, pattern):
    base = os.path.join(ROOT, "tests", "interop")
    script = os.path.join(base, "run.mjs")
    if not os.path.exists(script):
        return
    if not npm_ci(base, tally, "interop"):
        return
    env = dict(os.environ)
    if pattern:
        env["INTEROP_FILTER"] = pattern
    proc = subprocess.run(["node", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    detail = []
    seen = 0
    for line in proc.stdout.splitlines():
        if line.startswith("ok "):
            seen += 1
            tally.ok("interop/" + line[3:])
        elif line.startswith("not ok "):
            seen += 1
            tally.fail("interop/" + line[7:], "\n".join(detail))
            detail = []
        elif line.startswith("#"):
            detail.append(line[1:])
    if proc.returncode != 0 and seen == 0:
        tally.fail("interop", f"exit {proc.returncode}\n{proc.stderr[-3000:]}")


def run_portable(build, tally, pattern):
    """The same unit and integration tests against another build, in a
    child process (the integration modules read NEMO_BIN when imported)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--build", build,
           "--only", "unit,integration"]
    if pattern:
        cmd += ["-k", pattern]
    env = dict(os.environ, NEMO_PORTABLE_PASS="1")
    print(f"# portable pass: {build}")
    sys.stdout.flush()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                          timeout=1800)
    tail = proc.stdout.strip().splitlines()
    last = tail[-1] if tail else ""
    try:
        npass, nfail = [int(part.split()[0]) for part in last.split(",")[:2]]
    except (ValueError, IndexError):
        tally.fail("portable", f"no closing line\n{proc.stdout[-2000:]}"
                               f"\n{proc.stderr[-2000:]}")
        return
    tally.passed += npass
    if nfail:
        print("\n".join(tail[-60:]))
    names = [l[5:] for l in tail if l.startswith("FAIL ")]
    for name in names:
        tally.fail("portable/" + name)
    # failures the child counted without a FAIL line (none today)
    for _ in range(nfail - len(names)):
        tally.fail("portable/(unnamed)", proc.stdout[-2000:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", default="unit,backend,integration,interop")
    ap.add_argument("-k", dest="pattern", default="")
    ap.add_argument("--portable", default="")
    args = ap.parse_args()
    build = os.path.abspath(os.path.join(ROOT, args.build))
    os.environ["NEMO_BIN"] = os.path.join(build, "nemo-mcp")
    os.environ["NEMO_BUILD"] = build
    suites = args.only.split(",")
    tally = Tally()
    started = time.time()
    if "unit" in suites:
        run_unit(build, tally, args.pattern)
    if "backend" in suites:
        run_python("tests/backend", tally, args.pattern)
    if "integration" in suites:
        # the MCP Bundle CLI and Ajv that test_dist.py runs
        npm_ci(os.path.join(ROOT, "tests", "dist"), tally, "dist")
        run_python("tests/integration", tally, args.pattern)
    if "interop" in suites:
        run_interop(tally, args.pattern)
    if args.portable:
        run_portable(os.path.abspath(os.path.join(ROOT, args.portable)),
                     tally, args.pattern)
    sys.stdout.flush()
    if tally.failures:
        print("\nfailed:")
        for name, _ in tally.failures:
            print(f"  {name}")
    print(f"# {time.time() - started:.1f}s")
    print(f"{tally.passed} passed, {tally.failed} failed")
    return 1 if tally.failed or tally.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
