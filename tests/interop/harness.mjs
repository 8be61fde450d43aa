// Shared machinery of the interop tests: paths, the reference backend, a
// transport tap that sees every byte the server writes, and the test runner
// that prints `ok NAME` / `not ok NAME` + `# detail` lines for tests/run.py.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '..', '..');

export function nemoBin() {
    const bin = process.env.NEMO_BIN || 'build/nemo-mcp';
    return isAbsolute(bin) ? bin : resolve(ROOT, bin);
}

export function tempDir(prefix) {
    return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir) {
    try { rmSync(dir, { recursive: true, force: true }); } catch { /* already gone */ }
}

// The environment nemo-mcp runs with in every interop test: the reference
// backend, a private config dir and short waits.
export function serverEnv(backendUrl, configDir) {
    const env = {
        NEMO_API_BASE: backendUrl,
        NEMO_CONFIG_DIR: configDir,
        NEMO_STATE_DIR: join(configDir, 'state'),
        NEMO_HEARTBEAT_MS: '50',
        NEMO_RENDER_POLL_MS: '20',
        NEMO_RETRY_429_MS: '10',
        NEMO_LOG: process.env.NEMO_LOG || 'warn',
        NO_PROXY: '127.0.0.1,localhost',   // libcurl honours http_proxy
    };
    const skill = join(ROOT, 'SKILL.md');
    if (existsSync(skill)) env.NEMO_SKILL_FILE = skill;
    for (const key of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'ASAN_OPTIONS', 'UBSAN_OPTIONS']) {
        if (process.env[key] !== undefined) env[key] = process.env[key];
    }
    return env;
}

// ---------------------------------------------------------------------------
// Reference backend (tests/backend/refbackend.py) in a child process.

export class Backend {
    static async start() {
        const script = process.env.NEMO_REFBACKEND ||
            join(ROOT, 'tests', 'backend', 'refbackend.py');
        const proc = spawn('python3', [script, '--host', '127.0.0.1', '--port', '0'],
                           { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        proc.stderr.on('data', d => { stderr = (stderr + d).slice(-4000); });
        const lines = createInterface({ input: proc.stdout });
        const url = await new Promise((resolveUrl, reject) => {
            const timer = setTimeout(() => reject(new Error('refbackend: no READY line within 20 s')), 20000);
            lines.once('line', line => {
                clearTimeout(timer);
                const m = /^READY (http:\/\/\S+)$/.exec(line.trim());
                m ? resolveUrl(m[1]) : reject(new Error(`refbackend: unexpected first line ${JSON.stringify(line)}`));
            });
            proc.once('exit', code => {
                clearTimeout(timer);
                reject(new Error(`refbackend exited (${code}) before READY: ${stderr}`));
            });
        });
        lines.close();
        return new Backend(proc, url);
    }

    constructor(proc, url) {
        this.proc = proc;
        this.url = url;
    }

    // POST (or GET) /_control/<name>; returns `data`, throws on an error envelope.
    async control(name, body, { method, query } = {}) {
        method = method || (body === undefined ? 'GET' : 'POST');
        const res = await fetch(`${this.url}/_control/${name}${query ? '?' + query : ''}`, {
            method,
            headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
        });
        const env = await res.json();
        if (env.code !== 0) throw new Error(`control ${name}: ${JSON.stringify(env)}`);
        return env.data;
    }

    // The request log, optionally waiting (long poll) for min_count entries.
    async requests(path, { minCount = 0, timeoutMs = 0 } = {}) {
        const q = new URLSearchParams({ min_count: String(minCount), timeout_ms: String(timeoutMs) });
        if (path) q.set('path', path);
        return (await this.control('requests', undefined, { query: q.toString() })).requests;
    }

    async reset() {
        return this.control('reset', {});
    }

    async stop() {
        if (this.proc.exitCode !== null) return;
        const exited = new Promise(r => this.proc.once('exit', r));
        this.proc.kill('SIGTERM');
        const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
    }
}

// ---------------------------------------------------------------------------
// The tap: every line the server writes (raw, before the SDK parses it) is
// validated with the era's schema as it arrives; every message the client
// sends is recorded so responses can be matched to their request methods.

export class Tap {
    constructor(validator) {
        this.validator = validator;
        this.outgoing = [];          // {t, msg}
        this.incoming = [];          // {t, line, msg}
        this.problems = [];          // {seq, text}: schema or protocol violations
        this.requests = new Map();   // id -> {method, cancelled}
        this.pending = '';
        this.stderr = '';
        this.exit = null;            // {code, signal, t}
        this.exited = new Promise(r => { this.onExit = r; });
        this.stdinClosedAt = null;
    }

    attach(proc) {
        this.proc = proc;
        proc.stdout.on('data', chunk => this.feed(chunk));
        proc.once('exit', (code, signal) => {
            this.exit = { code, signal, t: performance.now() };
            this.onExit(this.exit);
        });
        proc.stdin.once('finish', () => { this.stdinClosedAt = performance.now(); });
    }

    captureStderr(stream) {
        stream?.on('data', d => { this.stderr = (this.stderr + d).slice(-6000); });
    }

    sent(msg) {
        const t = performance.now();
        for (const m of Array.isArray(msg) ? msg : [msg]) {
            this.outgoing.push({ t, msg: m });
            if (m && m.method && m.id !== undefined) {
                this.requests.set(m.id, { method: m.method, cancelled: false });
            } else if (m && m.method === 'notifications/cancelled') {
                const req = this.requests.get(m.params?.requestId);
                if (req) req.cancelled = true;
            }
        }
    }

    problem(text) {
        this.problems.push({ seq: this.incoming.length, text });
    }

    feed(chunk) {
        this.pending += chunk.toString('utf8');
        let nl;
        while ((nl = this.pending.indexOf('\n')) >= 0) {
            const line = this.pending.slice(0, nl).replace(/\r$/, '');
            this.pending = this.pending.slice(nl + 1);
            if (line.length) this.line(line);
        }
    }

    line(line) {
        let msg;
        try {
            msg = JSON.parse(line);
        } catch (e) {
            this.incoming.push({ t: performance.now(), line, msg: undefined });
            this.problem(`stdout line is not JSON (${e.message}): ${line.slice(0, 200)}`);
            return;
        }
        this.incoming.push({ t: performance.now(), line, msg });
        const isResponse = msg && typeof msg === 'object' && ('result' in msg || 'error' in msg);
        let method;
        if (isResponse && msg.id !== null && msg.id !== undefined) {
            const req = this.requests.get(msg.id);
            if (!req) {
                this.problem(`response to unknown request id ${JSON.stringify(msg.id)}`);
            } else {
                method = req.method;
                if (req.cancelled) this.problem(`response sent for cancelled request ${msg.id} (${method})`);
                if (req.answered) this.problem(`second response to request ${msg.id} (${method})`);
                req.answered = true;
            }
        }
        for (const err of this.validator.validateServerMessage(msg, method)) {
            const what = method ? `${method} response` : (msg?.method || 'message');
            this.problem(`schema (${this.validator.era}) ${what}: ${err}`);
        }
    }

    // Messages received from index `from` on.
    messagesSince(from) {
        return this.incoming.slice(from).map(e => e.msg).filter(Boolean);
    }

    responseTo(id) {
        const e = this.incoming.find(x => x.msg && x.msg.id === id && ('result' in x.msg || 'error' in x.msg));
        return e && e.msg;
    }

    lastRequest(method, pred = () => true) {
        for (let i = this.outgoing.length - 1; i >= 0; i--) {
            const m = this.outgoing[i].msg;
            if (m.method === method && m.id !== undefined && pred(m)) return m;
        }
        return undefined;
    }
}

// A subclass of an SDK's StdioClientTransport that feeds the tap. (Being a
// subclass also makes the v2 client probe the era in place instead of on a
// throwaway sibling process, so the probe's answer is validated too.)
export function tappedTransport(Base, params, tap) {
    class TappedStdioTransport extends Base {
        async start() {
            const started = super.start();  // spawns synchronously
            if (this._process) {
                tap.attach(this._process);
                tap.captureStderr(this.stderr);
            }
            return started;
        }

        async send(message, options) {
            tap.sent(message);
            return super.send(message, options);
        }
    }
    return new TappedStdioTransport({ ...params, stderr: 'pipe' });
}

// ---------------------------------------------------------------------------
// Runner

export class Failure extends Error {}

// An unexpected exception: its message and the first frames, not 20 lines
// of SDK internals.
function brief(e) {
    if (!(e instanceof Error)) return String(e);
    const frames = (e.stack || '').split('\n').filter(l => /^\s+at /.test(l)).slice(0, 3);
    return [`${e.name}: ${e.message}`, ...frames].join('\n');
}

export function assert(cond, message) {
    if (!cond) throw new Failure(message);
}

export function assertEq(actual, expected, what) {
    const a = JSON.stringify(actual), e = JSON.stringify(expected);
    if (a !== e) throw new Failure(`${what}: expected ${e}, got ${a}`);
}

export function withTimeout(promise, ms, what) {
    let timer;
    return Promise.race([
        promise,
        new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Failure(`${what}: no answer within ${ms} ms`)), ms);
        }),
    ]).finally(() => clearTimeout(timer));
}

// Poll `probe` (async, returns a value or undefined) until it yields or the
// deadline passes. For conditions another process reaches, not for settling.
export async function waitFor(probe, ms, what, everyMs = 20) {
    const deadline = performance.now() + ms;
    for (;;) {
        const v = await probe();
        if (v !== undefined && v !== false && v !== null) return v;
        if (performance.now() >= deadline) throw new Failure(`${what}: not within ${ms} ms`);
        await new Promise(r => setTimeout(r, everyMs));
    }
}

export class Runner {
    constructor(filter) {
        this.filter = filter || '';
        this.passed = 0;
        this.failed = 0;
        this.validated = 0;      // server messages checked against a schema
    }

    selected(name) {
        return !this.filter || name.includes(this.filter);
    }

    // Run one test. `tap` (optional): schema problems the server's messages
    // showed while the test ran fail it too. `always`: run even when the
    // filter excludes it (a step later tests need), reporting it only when
    // it fails. Returns true when it passed.
    async test(name, fn, { tap, always = false, timeoutMs = 20000 } = {}) {
        const shown = this.selected(name);
        if (!shown && !always) return true;
        const mark = tap ? tap.problems.length : 0;
        const details = [];
        try {
            await withTimeout(Promise.resolve().then(fn), timeoutMs, name);
        } catch (e) {
            details.push(e instanceof Failure ? e.message : brief(e));
        }
        if (tap) {
            const found = tap.problems.slice(mark);
            if (found.length) {
                details.push(`${found.length} server message(s) failed validation:`);
                for (const p of found.slice(0, 10)) details.push(`  ${p.text}`);
            }
        }
        const ok = details.length === 0;
        if (!ok || shown) this.report(name, ok, details, tap);
        return ok;
    }

    // Detail lines come first, then the verdict: tests/run.py (like the
    // unit tests' unit.h) attaches the `#` lines before a `not ok` to it.
    report(name, ok, details, tap) {
        if (ok) {
            this.passed++;
            console.log(`ok ${name}`);
            return;
        }
        this.failed++;
        for (const d of details) {
            for (const line of String(d).split('\n')) console.log(`# ${line}`);
        }
        if (tap && tap.stderr.trim()) {
            console.log('# server stderr (tail):');
            for (const line of tap.stderr.trim().split('\n').slice(-15)) console.log(`#   ${line}`);
        }
        console.log(`not ok ${name}`);
    }

    // A test that could not run because an earlier step failed.
    skip(name, why) {
        if (!this.selected(name)) return;
        this.report(name, false, [`not run: ${why}`]);
    }
}
