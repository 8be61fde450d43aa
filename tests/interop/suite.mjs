// The interop scenario every SDK client runs against build/nemo-mcp:
// connect over stdio, list the tools, call `credits` against the reference
// backend, cancel a long `generate` through an AbortSignal, shut down.
// Each client file (v1.test.mjs, v2.test.mjs) supplies an adapter with the
// SDK-specific parts.

import Ajv2020 from 'ajv/dist/2020.js';
import {
    Tap, assert, assertEq, nemoBin, removeDir, serverEnv, tappedTransport, tempDir,
    waitFor, withTimeout,
} from './harness.mjs';

// The steps each client runs, in order (test names are `<client>/<step>`).
export const STEPS = ['connect', 'tools-list', 'call-credits', 'cancel-generate',
                      'cancel-aborts-transfer', 'shutdown'];
export const TOOL_NAMES = ['credits', 'session', 'upload', 'generate', 'job', 'state', 'export'];
const READ_ONLY = ['credits', 'state'];   // job can cancel
const SLOW_TURN_MS = 20000;       // the backend turn the cancel test cuts short
const PROMPT = 'make a 10 second city timelapse with lo-fi music';

// Structured content must match the output schema the tool advertised.
const outputAjv = new Ajv2020({ strict: false, allErrors: true });

function checkStructured(tool, structured) {
    if (!tool?.outputSchema) return;
    const validate = outputAjv.compile(tool.outputSchema);
    if (!validate(structured)) {
        const errs = validate.errors.slice(0, 8).map(e => `${e.instancePath || '(root)'} ${e.message}`);
        throw new Error(`${tool.name} structuredContent does not match its outputSchema: ${errs.join('; ')}`);
    }
}

function textOf(result) {
    return (result?.content || []).filter(c => c.type === 'text').map(c => c.text).join('\n');
}

// adapter: {label, validator, Transport, newClient(), connect(client,
// transport), afterConnect(client, tap), call(client, params, options),
// alive(client) + aliveWhat (a cheap request the era has), checkRequest(msg)}
export async function runSuite(runner, backend, adapter, credits) {
    const L = adapter.label;
    const configDir = tempDir(`nemo-interop-${L}-`);
    const tap = new Tap(adapter.validator);
    const state = { tools: null, cancelledId: undefined, abortedAt: undefined };
    let client;
    try {
        await backend.reset();
        await backend.control('config', { initial_credits: credits });
        const transport = tappedTransport(adapter.Transport, {
            command: nemoBin(), args: [], env: serverEnv(backend.url, configDir),
        }, tap);
        client = adapter.newClient();

        const connected = await runner.test(`${L}/connect`, async () => {
            await withTimeout(adapter.connect(client, transport), 15000, 'connect');
            await adapter.afterConnect(client, tap);
        }, { tap, always: true });
        if (!connected) {
            for (const t of STEPS.slice(1)) {
                runner.skip(`${L}/${t}`, 'connect failed');
            }
            return;
        }

        await runner.test(`${L}/tools-list`, async () => {
            const res = await withTimeout(client.listTools(), 5000, 'tools/list');
            const names = res.tools.map(t => t.name);
            assertEq(names, TOOL_NAMES, 'tool names in order');
            for (const tool of res.tools) {
                assert(tool.inputSchema?.type === 'object', `${tool.name}: inputSchema.type must be "object"`);
                assert(tool.outputSchema?.type === 'object', `${tool.name}: no object outputSchema`);
                assert(typeof tool.description === 'string' && tool.description.length > 40,
                       `${tool.name}: description missing or too short for a model`);
                assert(tool.annotations && typeof tool.annotations === 'object', `${tool.name}: no annotations`);
                const ro = READ_ONLY.includes(tool.name);
                assert(Boolean(tool.annotations.readOnlyHint) === ro,
                       `${tool.name}: readOnlyHint should be ${ro}`);
            }
            const req = tap.lastRequest('tools/list');
            assert(req, 'the client sent no tools/list request');
            adapter.checkRequest(req);
            state.tools = new Map(res.tools.map(t => [t.name, t]));
        }, { tap });

        // exact: the account is untouched, so the balance is the initial
        // one; else (a turn ran) only its consistency is known.
        const callCredits = async (what, exact = true) => {
            const res = await withTimeout(adapter.call(client, { name: 'credits', arguments: {} }, {}),
                                          10000, what);
            assert(!res.isError, `${what} returned isError: ${textOf(res)}`);
            const sc = res.structuredContent;
            assert(sc && typeof sc === 'object', `${what}: no structuredContent`);
            const got = { available: sc.available, frozen: sc.frozen, total: sc.total };
            if (exact) {
                assertEq(got, { available: credits, frozen: 0, total: credits }, `${what} balance`);
            } else {
                assert(sc.available + sc.frozen === sc.total && sc.total <= credits,
                       `${what}: inconsistent balance ${JSON.stringify(got)}`);
            }
            assert(textOf(res).length > 0, `${what}: no text content`);
            if (state.tools) checkStructured(state.tools.get('credits'), sc);
            return res;
        };

        await runner.test(`${L}/call-credits`, async () => {
            await callCredits('credits');
            const req = tap.lastRequest('tools/call');
            adapter.checkRequest(req);
            const seen = await backend.requests('/api/credits/balance/simple');
            assert(seen.length >= 1, 'the backend saw no credits request');
        }, { tap });

        await runner.test(`${L}/cancel-generate`, async () => {
            await backend.control('next_turn', { mode: 'slow', delay_ms: SLOW_TURN_MS });
            const progress = [];
            const abort = new AbortController();
            const call = adapter.call(client, {
                name: 'generate', arguments: { prompt: PROMPT, wait_seconds: 60 },
            }, { signal: abort.signal, onprogress: p => progress.push(p), timeout: 60000 });
            let rejectedAt = null, rejection = null, resolved = null;
            const settled = call.then(r => { resolved = r; },
                                      e => { rejection = e; rejectedAt = performance.now(); });

            // Cancel mid-turn: once the agent stream is open and the call
            // has reported progress.
            await waitFor(async () => resolved || rejection ||
                          (await backend.requests('/run_sse')).length > 0,
                          10000, 'generate opening the agent stream (/run_sse)');
            await waitFor(() => progress.length > 0 || resolved || rejection, 5000,
                          'first progress notification of generate');
            assert(!resolved && !rejection, `generate ended before it was cancelled: ${
                rejection ? rejection.message : textOf(resolved)}`);
            const req = tap.lastRequest('tools/call', m => m.params?.name === 'generate');
            state.cancelledId = req.id;
            adapter.checkRequest(req);
            const abortedAt = performance.now();
            abort.abort('interop test cancels the call');
            state.abortedAt = abortedAt;
            await withTimeout(settled, 1000, 'rejection of the aborted call');
            assert(rejection, 'the aborted call did not reject');
            assert(rejectedAt - abortedAt < 1000, `the call rejected ${rejectedAt - abortedAt} ms after abort`);

            const note = tap.outgoing.map(o => o.msg).find(m => m.method === 'notifications/cancelled' &&
                                                           m.params?.requestId === req.id);
            assert(note, `the SDK sent no notifications/cancelled for request ${req.id}`);
            adapter.checkRequest(note);

            for (let i = 1; i < progress.length; i++) {
                assert(progress[i].progress > progress[i - 1].progress,
                       `progress not strictly increasing: ${progress[i - 1].progress} then ${progress[i].progress}`);
            }

            // ...and keep serving.
            await withTimeout(adapter.alive(client), 2000, `${adapter.aliveWhat} after the cancel`);
            await callCredits('credits after the cancel', false);
            assert(!tap.responseTo(req.id), `a response was sent for the cancelled request ${req.id}`);
        }, { tap, always: runner.selected(`${L}/cancel-aborts-transfer`) });

        // Cancelling stops the work, not only the wait: the HTTP transfer
        // in flight (the agent's SSE stream) is aborted, which the backend
        // sees as its client going away long before the turn would end.
        if (state.abortedAt === undefined) {
            runner.skip(`${L}/cancel-aborts-transfer`, 'the cancel test did not get to cancel');
        } else {
            await runner.test(`${L}/cancel-aborts-transfer`, async () => {
                const gone = await waitFor(async () => {
                    const entries = await backend.requests('/run_sse');
                    const e = entries[entries.length - 1];
                    return e && e.done && e.sse ? e : undefined;
                }, 3000, 'the agent stream (/run_sse) of the cancelled call closing: the HTTP transfer ' +
                   'was not aborted; the backend still streamed to nemo-mcp');
                assertEq(gone.sse.outcome, 'client_gone', 'outcome of the cancelled agent turn');
                assert(gone.duration_ms < SLOW_TURN_MS / 2, `agent stream lasted ${gone.duration_ms} ms`);
            }, { tap });
        }

        await runner.test(`${L}/shutdown`, async () => {
            await client.close();
            client = null;
            const exit = await withTimeout(tap.exited, 5000, 'server exit after stdin closed');
            assert(exit.signal === null && exit.code === 0,
                   `server exit: code ${exit.code}, signal ${exit.signal}`);
            if (tap.stdinClosedAt !== null) {
                const ms = exit.t - tap.stdinClosedAt;
                assert(ms < 2000, `server took ${ms.toFixed(0)} ms to exit after end of stdin`);
            }
            if (state.cancelledId !== undefined) {
                assert(!tap.responseTo(state.cancelledId),
                       `a response was sent for the cancelled request ${state.cancelledId}`);
            }
            assert(tap.pending.trim() === '', `unterminated output at exit: ${tap.pending.slice(0, 200)}`);
            assert(tap.incoming.length > 0, 'no message was captured from the server');
        }, { tap, always: true });
    } finally {
        runner.validated += tap.incoming.length;
        if (client) await client.close().catch(() => {});
        if (tap.proc && tap.exit === null) tap.proc.kill('SIGKILL');
        removeDir(configDir);
    }
}
