#!/usr/bin/env node
// Runs every interop test: the official MCP SDK clients (v1 handshake era,
// v2 stateless era) against build/nemo-mcp over stdio, with the reference
// backend behind it. Prints `ok NAME` / `not ok NAME` (a failure's `# detail`
// lines just before it, as tests/run.py reads them),
// and exits non-zero when a test failed. INTEROP_FILTER=substring selects tests;
// NEMO_BIN names the binary (default build/nemo-mcp under the repo root).

import { existsSync } from 'node:fs';
import { Backend, ROOT, Runner, nemoBin } from './harness.mjs';
import { EraValidator, HANDSHAKE, STATELESS, schemaDir } from './schema.mjs';
import { FEATURE_STEPS } from './features.mjs';
import { STEPS } from './suite.mjs';
import * as v1 from './v1.test.mjs';
import * as v2 from './v2.test.mjs';
import * as elicit from './elicitation.test.mjs';

const SUITES = [v1, v2, elicit];

// The validators must reject what the schemas forbid, or every other test
// would pass vacuously.
function selfCheck(runner, dir) {
    return runner.test('schema/selfcheck', () => {
        const bad = { jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'x' }] } };
        const good = { name: 'x', inputSchema: { type: 'object' } };
        const h = new EraValidator(HANDSHAKE, dir);
        const s = new EraValidator(STATELESS, dir);
        const problems = [];
        if (!h.validateServerMessage(bad, 'tools/list').length) problems.push('2025-11-25 accepted a tool without inputSchema');
        if (h.validateServerMessage({ jsonrpc: '2.0', id: 1, result: { tools: [good] } }, 'tools/list').length) {
            problems.push('2025-11-25 rejected a valid tools/list result');
        }
        const noType = { jsonrpc: '2.0', id: 1, result: { tools: [good], ttlMs: 0, cacheScope: 'public' } };
        if (!s.validateServerMessage(noType, 'tools/list').length) problems.push('2026-07-28 accepted a result without resultType');
        const ok = { jsonrpc: '2.0', id: 1, result: { ...noType.result, resultType: 'complete' } };
        const errs = s.validateServerMessage(ok, 'tools/list');
        if (errs.length) problems.push(`2026-07-28 rejected a valid tools/list result: ${errs.join('; ')}`);
        if (!s.validateServerMessage({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1 } }).length) {
            problems.push('2026-07-28 accepted a progress notification without progressToken');
        }
        if (problems.length) throw new Error(problems.join('\n'));
    });
}

async function main() {
    const runner = new Runner(process.env.INTEROP_FILTER);
    const started = performance.now();
    const major = Number(process.versions.node.split('.')[0]);
    if (major < 20) {
        runner.report('interop/setup', false, [`node ${process.versions.node}: the MCP SDKs need node >= 20`]);
        return 1;
    }
    let dir;
    try {
        dir = schemaDir(ROOT);
    } catch (e) {
        runner.report('interop/setup', false, [e.message]);
        return 1;
    }
    await selfCheck(runner, dir);
    const bin = nemoBin();
    if (!existsSync(bin)) {
        runner.report('interop/setup', false, [`no server binary at ${bin} (run make, or set NEMO_BIN)`]);
        return 1;
    }
    let backend;
    try {
        backend = await Backend.start();
    } catch (e) {
        runner.report('interop/setup', false, [`reference backend: ${e.message}`]);
        return 1;
    }
    try {
        for (const suite of SUITES) {
            if (!(suite.STEPS || [...STEPS, ...FEATURE_STEPS]).some(step => runner.selected(`${suite.name}/${step}`))) continue;
            await suite.run(runner, backend, dir);
        }
    } finally {
        await backend.stop();
    }
    console.log(`# interop: ${runner.passed} passed, ${runner.failed} failed, ${
        runner.validated} server messages validated, ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return runner.failed ? 1 : 0;
}

main().then(code => { process.exitCode = code; },
            e => { console.log('not ok interop/run'); console.log(`# ${e.stack || e}`); process.exitCode = 1; });
