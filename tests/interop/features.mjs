// What nemo-mcp offers besides tools, through each official SDK client:
// the timeline resource (template, list, read), a subscription that a tool
// call updates (resources/subscribe in the handshake era,
// subscriptions/listen in 2026-07-28), the resource_link and list change a
// saved export brings, prompts and completion. Each client file supplies
// the SDK-specific parts (see runFeatures).

import { copyFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
    ROOT, Tap, assert, assertEq, nemoBin, removeDir, serverEnv, tappedTransport, tempDir, waitFor,
    withTimeout,
} from './harness.mjs';

export const FEATURE_STEPS = ['resources', 'subscribe', 'export-link', 'prompts', 'complete', 'roots',
                              'features-shutdown'];
const SAMPLE_MP4 = join(ROOT, 'tests', 'fixtures', 'sample.mp4');
const TEMPLATE = 'nemo://sessions/{session}/timeline';
const SEED_DRAFT = {
    d: 10000,
    t: [
        { tt: 0, m: { name: 'Video' }, sg: [{ s: 0, d: 10000, m: { label: 'city timelapse' } }] },
        { tt: 1, m: { name: 'BGM' }, sg: [{ s: 0, d: 10000, m: { label: 'Lo-fi', volume: 0.35 } }] },
        { tt: 7, m: { name: 'Title' }, sg: [{ s: 0, d: 3000, m: { text: 'Urban Dreams' } }] },
    ],
};

export function timelineUri(sid) {
    return `nemo://sessions/${encodeURIComponent(sid)}/timeline`;
}

// adapter: {label, validator, Transport, newClient(roots), connect(client,
// transport), call(client, params, options), onNotification(client,
// method, fn), subscribe(client, uri, tap) -> handle (checks what the era
// sends), unsubscribe(client, handle), listChangedFrom(tap) -> whether the
// list_changed notices came the era's way}
export async function runFeatures(runner, backend, adapter) {
    const L = adapter.label;
    const configDir = tempDir(`nemo-features-${L}-`);
    const work = tempDir(`nemo-features-out-${L}-`);
    const tap = new Tap(adapter.validator);
    const updates = [], listChanged = [];
    const state = { sid: null, uri: null, handle: null };
    let client;
    try {
        await backend.reset();
        const transport = tappedTransport(adapter.Transport, {
            command: nemoBin(), args: [], env: serverEnv(backend.url, configDir),
        }, tap);
        // The host shares the fixtures folder and the export folder.
        const roots = { uris: [pathToFileURL(join(ROOT, 'tests', 'fixtures')).href, pathToFileURL(work).href] };
        client = adapter.newClient(roots);
        adapter.onNotification(client, 'notifications/resources/updated', n => updates.push(n));
        adapter.onNotification(client, 'notifications/resources/list_changed', n => listChanged.push(n));
        try {
            await withTimeout(adapter.connect(client, transport), 15000, 'connect');
        } catch (e) {
            for (const t of FEATURE_STEPS) runner.skip(`${L}/${t}`, `connect failed: ${e.message}`);
            return;
        }
        const call = async (name, args) => {
            const res = await withTimeout(adapter.call(client, { name, arguments: args }, {}), 30000, name);
            assert(!res.isError, `${name} failed: ${JSON.stringify(res.content)}`);
            return res;
        };

        await runner.test(`${L}/resources`, async () => {
            const { resourceTemplates } = await client.listResourceTemplates();
            assertEq(resourceTemplates.map(t => t.uriTemplate), [TEMPLATE], 'resource templates');
            state.sid = (await call('session', { action: 'current' })).structuredContent.session;
            state.uri = timelineUri(state.sid);
            const { resources } = await client.listResources();
            assert(resources.some(r => r.uri === state.uri && r.mimeType === 'application/json'),
                   `resources/list lacks ${state.uri}: ${JSON.stringify(resources)}`);
            await backend.control('set_state', { session_id: state.sid, draft: SEED_DRAFT });
            const st = (await call('state', {})).structuredContent;
            const read = await client.readResource({ uri: state.uri });
            const json = read.contents.find(c => c.mimeType === 'application/json');
            const text = read.contents.find(c => c.mimeType === 'text/plain');
            assertEq(JSON.parse(json.text), st, 'timeline resource vs the state tool');
            assert(text.text.includes('Urban Dreams'), `text summary: ${text.text}`);
        }, { tap });

        await runner.test(`${L}/subscribe`, async () => {
            assert(state.uri, 'no timeline URI (resources failed)');
            state.handle = await adapter.subscribe(client, state.uri, tap);
            await call('upload', { files: [SAMPLE_MP4] });
            await waitFor(() => updates.some(n => n.params?.uri === state.uri), 5000,
                          'notifications/resources/updated after the upload');
            adapter.checkUpdate(tap, state.uri);
        }, { tap });

        await runner.test(`${L}/export-link`, async () => {
            assert(state.sid, 'no session (resources failed)');
            const res = await call('export', { download_to: work, wait_seconds: 60 });
            const path = res.structuredContent.path;
            assert(path && existsSync(path), `export saved nothing: ${JSON.stringify(res.structuredContent)}`);
            const link = res.content.find(c => c.type === 'resource_link');
            assert(link, `no resource_link in ${JSON.stringify(res.content)}`);
            assertEq([link.uri, link.mimeType, link.size],
                     [pathToFileURL(path).href, 'video/mp4', statSync(path).size], 'resource_link');
            await waitFor(() => listChanged.length > 0, 5000, 'notifications/resources/list_changed');
            const { resources } = await client.listResources();
            assert(resources.some(r => r.uri === link.uri && r.size === link.size),
                   `the saved video is not listed: ${JSON.stringify(resources)}`);
        }, { tap });

        await runner.test(`${L}/prompts`, async () => {
            const { prompts } = await client.listPrompts();
            assert(prompts.length >= 4, `only ${prompts.length} prompts`);
            const got = await client.getPrompt({
                name: 'animate_image', arguments: { image: SAMPLE_MP4, motion: 'slow zoom in' },
            });
            const text = got.messages[0].content.text;
            for (const w of [SAMPLE_MP4, 'slow zoom in', '`upload`', '`generate`']) {
                assert(text.includes(w), `animate_image prompt lacks ${w}: ${text}`);
            }
        }, { tap });

        await runner.test(`${L}/complete`, async () => {
            const r = await client.complete({
                ref: { type: 'ref/prompt', name: 'animate_image' },
                argument: { name: 'aspect_ratio', value: '9' },
            });
            assertEq(r.completion.values, ['9:16'], 'aspect ratio completion');
            const s = await client.complete({
                ref: { type: 'ref/resource', uri: TEMPLATE },
                argument: { name: 'session', value: '' },
            });
            assert(s.completion.values.includes(state.sid), `session completion: ${JSON.stringify(s)}`);
        }, { tap });

        await runner.test(`${L}/roots`, async () => {
            const asked = () => tap.messagesSince(0).filter(m => m.method === 'roots/list').length;
            const inside = tempDir(`nemo-roots-in-${L}-`), outside = tempDir(`nemo-roots-out-${L}-`);
            try {
                for (const d of [inside, outside]) copyFileSync(SAMPLE_MP4, join(d, 'clip.mp4'));
                const upload = async dir => (await call('upload', { files: [join(dir, 'clip.mp4')] }));
                if (!adapter.rootsAsked) {
                    // 2026-07-28: roots are not asked for (no server-to-client
                    // requests in that era), so they bound nothing.
                    const r = await upload(outside);
                    assertEq(r.structuredContent.uploaded, 1, 'upload without roots');
                    assertEq(asked(), 0, 'roots/list requests in the stateless era');
                    return;
                }
                assert(asked() >= 1, 'the server did not ask for roots after the handshake');
                const before = asked();
                roots.uris = [pathToFileURL(inside).href];
                await adapter.changeRoots(client);
                await waitFor(() => asked() > before, 5000, 'roots/list after roots/list_changed');
                const ok = await upload(inside);
                assertEq(ok.structuredContent.uploaded, 1, `upload inside the root (${JSON.stringify(ok.content)})`);
                const bad = await upload(outside);
                assertEq(bad.structuredContent.uploaded, 0, 'upload outside the roots');
                const text = bad.content.map(c => c.text || '').join('\n');
                assert(text.includes(inside), `the refusal does not name the allowed folder: ${text}`);
            } finally {
                removeDir(inside);
                removeDir(outside);
            }
        }, { tap });

        await runner.test(`${L}/features-shutdown`, async () => {
            if (state.handle) await adapter.unsubscribe(client, state.handle);
            await client.close();
            client = null;
            const exit = await withTimeout(tap.exited, 5000, 'server exit');
            assert(exit.code === 0, `server exit code ${exit.code}, signal ${exit.signal}`);
        }, { tap });
    } finally {
        runner.validated += tap.incoming.length;
        if (client) await client.close().catch(() => {});
        if (tap.proc && tap.exit === null) tap.proc.kill('SIGKILL');
        removeDir(configDir);
        removeDir(work);
    }
}
