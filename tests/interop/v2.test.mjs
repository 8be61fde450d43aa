// The v2 client (@modelcontextprotocol/client): stateless era 2026-07-28,
// server/discover, a per-request _meta protocol version, no handshake.

import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { FEATURE_STEPS, runFeatures } from './features.mjs';
import { assert, assertEq } from './harness.mjs';
import { EraValidator, STATELESS } from './schema.mjs';
import { STEPS, runSuite } from './suite.mjs';

export const name = 'v2';
const VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';
const SUBSCRIPTION_KEY = 'io.modelcontextprotocol/subscriptionId';

export async function run(runner, backend, schemaDir) {
    if (FEATURE_STEPS.some(step => runner.selected(`v2/${step}`))) {
        await runFeatures(runner, backend, {
            label: 'v2',
            validator: new EraValidator(STATELESS, schemaDir),
            Transport: StdioClientTransport,
            // Declares roots; 2026-07-28 servers are not to ask for them.
            newClient: () => new Client({ name: 'nemo-interop-v2', version: '1.0.0' }, {
                capabilities: { roots: {} },
                versionNegotiation: { mode: { pin: STATELESS } },
            }),
            rootsAsked: false,
            connect: (client, transport) => client.connect(transport, { timeout: 10000 }),
            call: (client, params, options) => client.callTool(params, options),
            onNotification: (client, method, fn) => client.setNotificationHandler(method, fn),
            // 2026-07-28: a subscriptions/listen stream, acknowledged with
            // what the server honours.
            async subscribe(client, uri) {
                const sub = await client.listen({ resourceSubscriptions: [uri, 'nemo://elsewhere'],
                                                  resourcesListChanged: true });
                assertEq(sub.honoredFilter, { resourcesListChanged: true, resourceSubscriptions: [uri] },
                         'honoured listen filter');
                return sub;
            },
            checkUpdate(tap, uri) {
                const n = tap.messagesSince(0).find(m => m.method === 'notifications/resources/updated' &&
                                                     m.params?.uri === uri);
                assert(n?.params?._meta?.[SUBSCRIPTION_KEY] !== undefined,
                       `update not tagged with its subscription: ${JSON.stringify(n)}`);
            },
            unsubscribe: (client, sub) => sub.close(),
        });
    }
    if (!STEPS.some(step => runner.selected(`v2/${step}`))) return;
    await runSuite(runner, backend, {
        label: 'v2',
        validator: new EraValidator(STATELESS, schemaDir),
        Transport: StdioClientTransport,
        newClient: () => new Client({ name: 'nemo-interop-v2', version: '1.0.0' }, {
            capabilities: {},
            versionNegotiation: { mode: { pin: STATELESS } },
        }),
        connect: (client, transport) => client.connect(transport, { timeout: 10000 }),
        async afterConnect(client, tap) {
            assertEq(client.getProtocolEra(), 'modern', 'protocol era');
            assertEq(client.getNegotiatedProtocolVersion(), STATELESS, 'negotiated protocol version');
            assert(!tap.lastRequest('initialize'), 'the stateless client sent initialize');
            const probe = tap.lastRequest('server/discover');
            assert(probe, 'the client sent no server/discover');
            const res = tap.responseTo(probe.id);
            assert(res?.result, `server/discover was not answered with a result: ${JSON.stringify(res)}`);
            assert(res.result.supportedVersions?.includes(STATELESS),
                   `supportedVersions lacks ${STATELESS}: ${JSON.stringify(res.result.supportedVersions)}`);
            assertEq(res.result.resultType, 'complete', 'server/discover resultType');
            const info = client.getServerVersion();
            assert(info?.name && info?.version, `no serverInfo in server/discover _meta: ${JSON.stringify(info)}`);
            assert(client.getServerCapabilities()?.tools, 'the server does not advertise tools');
            const instr = client.getInstructions();
            assert(typeof instr === 'string' && instr.length > 0, 'no instructions in server/discover');
        },
        call: (client, params, options) => client.callTool(params, options),
        // The stateless era has no ping: an uncached tools/list instead.
        alive: client => client.listTools(undefined, { cacheMode: 'bypass' }),
        aliveWhat: 'tools/list',
        // Stateless era: every request and notification names its version.
        checkRequest(msg) {
            assertEq(msg.params?._meta?.[VERSION_KEY], STATELESS, `${msg.method} _meta protocol version`);
        },
    }, 251);
}
