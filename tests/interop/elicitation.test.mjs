// Elicitation with the official SDK clients: the video agent's question
// answered through the client's elicitation handler finishes the edit in
// one `generate` call (v1: elicitation/create requests, handshake era; v2:
// input_required results the SDK fulfils and retries with requestState,
// 2026-07-28), a declined form leaves `needs_input`, and an out-of-credits
// turn (2001) or a plan-blocked export (402) offers its link in URL mode
// and is retried once after the person accepts (v1: then told, by
// notifications/elicitation/complete, that the step is done). Every server
// message is validated against its era's schema by the tap.

import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as StdioV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResultSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as ClientV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioV2 } from '@modelcontextprotocol/client/stdio';
import {
    Tap, assert, assertEq, nemoBin, removeDir, serverEnv, tappedTransport, tempDir, withTimeout,
} from './harness.mjs';
import { EraValidator, HANDSHAKE, STATELESS } from './schema.mjs';

export const name = 'elicit';
export const STEPS = ['v1/form-accept', 'v1/form-decline', 'v1/url-credits',
                      'v2/form-accept', 'v2/form-decline', 'v2/url-plan'];

const CAPS = { elicitation: { form: {}, url: {} } };
const DRAFT = { d: 5000, t: [{ tt: 0, m: { name: 'Video' }, sg: [{ s: 0, d: 5000, m: { label: 'clip' } }] }] };
const QUESTION = 'Which aspect ratio should the video use?';

function textOf(result) {
    return (result?.content || []).filter(c => c.type === 'text').map(c => c.text).join('\n');
}

const SDKS = {
    v1: {
        era: HANDSHAKE,
        Transport: StdioV1,
        newClient(handler) {
            const c = new ClientV1({ name: 'nemo-interop-elicit-v1', version: '1.0.0' }, { capabilities: CAPS });
            c.setRequestHandler(ElicitRequestSchema, req => handler(req.params));
            return c;
        },
        call: (client, params) => client.callTool(params, CallToolResultSchema, { timeout: 30000 }),
    },
    v2: {
        era: STATELESS,
        Transport: StdioV2,
        newClient(handler) {
            const c = new ClientV2({ name: 'nemo-interop-elicit-v2', version: '1.0.0' }, {
                capabilities: CAPS,
                versionNegotiation: { mode: { pin: STATELESS } },
            });
            c.setRequestHandler('elicitation/create', req => handler(req.params));
            return c;
        },
        call: (client, params) => client.callTool(params, { timeout: 30000 }),
    },
};

let schemas;          // the schema directory (run())
let counted = null;   // the runner, to count validated messages

// One server per test: a client whose elicitation handler is `handler`.
// Every message the server wrote must match its era's schema.
async function withClient(backend, sdk, handler, fn) {
    const configDir = tempDir(`nemo-interop-elicit-${sdk}-`);
    const S = SDKS[sdk];
    const tap = new Tap(new EraValidator(S.era, schemas));
    const asked = [];
    const client = S.newClient(params => { asked.push(params); return handler(params); });
    const transport = tappedTransport(S.Transport, {
        command: nemoBin(), args: [], env: serverEnv(backend.url, configDir),
    }, tap);
    try {
        await withTimeout(client.connect(transport, { timeout: 10000 }), 15000, 'connect');
        await fn({ client, call: p => S.call(client, p), asked, tap });
        assert(tap.problems.length === 0, `server messages failed validation: ${
            tap.problems.slice(0, 5).map(p => p.text).join('; ')}`);
    } finally {
        if (counted) counted.validated += tap.incoming.length;
        await client.close().catch(() => {});
        if (tap.proc && tap.exit === null) tap.proc.kill('SIGKILL');
        removeDir(configDir);
    }
    return tap;
}

const answer = content => params => params.mode === 'url'
    ? { action: 'accept' } : { action: 'accept', content };

async function formAccept(backend, sdk) {
    await withClient(backend, sdk, answer({ q1: '9:16' }), async ({ call, asked, tap }) => {
        const res = await call({ name: 'generate', arguments: { prompt: 'make a video about cats [ask]', wait_seconds: 30 } });
        assert(!res.isError, `generate failed: ${textOf(res)}`);
        const sc = res.structuredContent;
        assertEq(sc.status, 'completed', 'status after the answer');
        assert(sc.timeline_changed, 'the answered turn changed nothing');
        assertEq(sc.answered, [{ id: 'aspect_ratio', prompt: QUESTION, answer: '9:16' }], 'answered');
        assert(textOf(res).includes('9:16'), 'the text does not say what was answered');
        assertEq(asked.length, 1, 'elicitations');
        assertEq(asked[0].mode, 'form', 'elicitation mode');
        assertEq(asked[0].requestedSchema.properties.q1.enum, ['16:9', '9:16', '1:1'], 'options as an enum');
        const turns = await backend.requests('/run_sse');
        assertEq(turns.length, 2, 'agent turns (question, answer)');
        assert(JSON.stringify(turns[1].json).includes('9:16'), 'the answer did not reach the agent');
        if (sdk === 'v2') {
            const ir = tap.incoming.map(e => e.msg).find(m => m?.result?.resultType === 'input_required');
            assert(ir?.result?.requestState, 'no input_required result with requestState');
            assert(!tap.incoming.some(e => e.msg?.method === 'elicitation/create'),
                   'a request was sent to a 2026-07-28 client');
        }
    });
}

async function formDecline(backend, sdk) {
    await withClient(backend, sdk, () => ({ action: 'decline' }), async ({ call, asked }) => {
        const res = await call({ name: 'generate', arguments: { prompt: 'a video [ask]', wait_seconds: 30 } });
        assert(!res.isError, `generate failed: ${textOf(res)}`);
        assertEq(res.structuredContent.status, 'needs_input', 'status after a decline');
        assertEq(res.structuredContent.questions[0].prompt, QUESTION, 'question');
        assert(textOf(res).includes(QUESTION), 'the question is not in the text');
        assertEq(asked.length, 1, 'elicitations');
        assertEq((await backend.requests('/run_sse')).length, 1, 'agent turns');
    });
}

async function urlCredits(backend, sdk) {
    await backend.control('fault', { path: '/run_sse', kind: 'code', code: 2001 });
    await withClient(backend, sdk, answer({}), async ({ call, asked, tap }) => {
        const res = await call({ name: 'generate', arguments: { prompt: 'add music', wait_seconds: 30 } });
        assert(!res.isError, `generate failed after the link was accepted: ${textOf(res)}`);
        assertEq(res.structuredContent.status, 'completed', 'status');
        assertEq(asked.length, 1, 'elicitations');
        assertEq(asked[0].mode, 'url', 'mode');
        assert(/register\?bind=/.test(asked[0].url), `not the registration link: ${asked[0].url}`);
        assertEq((await backend.requests('/run_sse')).length, 2, 'turns: the refused one and the retry');
        // The retry succeeded: the out-of-band step is reported complete,
        // with the id of the URL elicitation (2025-11-25).
        const done = tap.incoming.map(e => e.msg).filter(m => m?.method === 'notifications/elicitation/complete');
        assertEq(done.map(m => m.params.elicitationId), [asked[0].elicitationId], 'elicitation/complete notices');
    });
}

async function urlPlan(backend, sdk) {
    const page = 'https://www.nemovideo.ai/pricing?bind=anon_interop';
    await withClient(backend, sdk, answer({}), async ({ call, asked }) => {
        const s = await call({ name: 'session', arguments: { action: 'current' } });
        await backend.control('set_state', { session_id: s.structuredContent.session, draft: DRAFT });
        await backend.control('fault', {
            path: '/api/render/proxy/lambda', method: 'POST', kind: 'status', status: 402,
            content_type: 'application/json',
            body: JSON.stringify({ code: 402, msg: 'export is blocked on the free plan', data: { upgrade_url: page } }),
        });
        const res = await call({ name: 'export', arguments: { wait_seconds: 30 } });
        assert(!res.isError, `export failed after the link was accepted: ${textOf(res)}`);
        assertEq(res.structuredContent.status, 'completed', 'export status');
        assertEq(asked.length, 1, 'elicitations');
        assertEq(asked[0].mode, 'url', 'mode');
        assertEq(asked[0].url, page, 'url');
    });
}

const TESTS = {
    'v1/form-accept': b => formAccept(b, 'v1'),
    'v1/form-decline': b => formDecline(b, 'v1'),
    'v1/url-credits': b => urlCredits(b, 'v1'),
    'v2/form-accept': b => formAccept(b, 'v2'),
    'v2/form-decline': b => formDecline(b, 'v2'),
    'v2/url-plan': b => urlPlan(b, 'v2'),
};

export async function run(runner, backend, schemaDir) {
    schemas = schemaDir;
    counted = runner;
    for (const step of STEPS) {
        await backend.reset();
        await runner.test(`${name}/${step}`, () => TESTS[step](backend), { timeoutMs: 40000 });
    }
}
