// The v1 SDK (@modelcontextprotocol/sdk): handshake era, initialize +
// notifications/initialized, protocol 2025-11-25.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
    CallToolResultSchema, ListRootsRequestSchema, ResourceListChangedNotificationSchema,
    ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { FEATURE_STEPS, runFeatures } from './features.mjs';
import { assert, assertEq } from './harness.mjs';
import { EraValidator, HANDSHAKE } from './schema.mjs';
import { STEPS, runSuite } from './suite.mjs';

const NOTIFICATION_SCHEMAS = {
    'notifications/resources/updated': ResourceUpdatedNotificationSchema,
    'notifications/resources/list_changed': ResourceListChangedNotificationSchema,
};

export const name = 'v1';

export async function run(runner, backend, schemaDir) {
    if (FEATURE_STEPS.some(step => runner.selected(`v1/${step}`))) {
        await runFeatures(runner, backend, {
            label: 'v1',
            validator: new EraValidator(HANDSHAKE, schemaDir),
            Transport: StdioClientTransport,
            newClient(roots) {
                const client = new Client({ name: 'nemo-interop-v1', version: '1.0.0' },
                                          { capabilities: { roots: { listChanged: true } } });
                client.setRequestHandler(ListRootsRequestSchema,
                                         () => ({ roots: roots.uris.map(uri => ({ uri, name: 'shared' })) }));
                return client;
            },
            rootsAsked: true,
            changeRoots: client => client.sendRootsListChanged(),
            connect: (client, transport) => client.connect(transport, { timeout: 10000 }),
            call: (client, params, options) => client.callTool(params, CallToolResultSchema, options),
            onNotification: (client, method, fn) => client.setNotificationHandler(NOTIFICATION_SCHEMAS[method], fn),
            async subscribe(client, uri) {
                await client.subscribeResource({ uri });
                return uri;
            },
            // Handshake era: the one session's notices, no stream id.
            checkUpdate(tap, uri) {
                const n = tap.messagesSince(0).find(m => m.method === 'notifications/resources/updated' &&
                                                     m.params?.uri === uri);
                assert(n && !n.params._meta, `handshake-era update carries _meta: ${JSON.stringify(n)}`);
            },
            unsubscribe: (client, uri) => client.unsubscribeResource({ uri }),
        });
    }
    if (!STEPS.some(step => runner.selected(`v1/${step}`))) return;
    await runSuite(runner, backend, {
        label: 'v1',
        validator: new EraValidator(HANDSHAKE, schemaDir),
        Transport: StdioClientTransport,
        newClient: () => new Client({ name: 'nemo-interop-v1', version: '1.0.0' }, { capabilities: {} }),
        connect: (client, transport) => client.connect(transport, { timeout: 10000 }),
        async afterConnect(client, tap) {
            const init = tap.lastRequest('initialize');
            assert(init, 'the client sent no initialize');
            const res = tap.responseTo(init.id);
            assertEq(res?.result?.protocolVersion, HANDSHAKE, 'negotiated protocolVersion');
            const info = client.getServerVersion();
            assert(info?.name && info?.version, `serverInfo lacks name/version: ${JSON.stringify(info)}`);
            assert(info.title, 'serverInfo has no title');
            assert(client.getServerCapabilities()?.tools, 'the server does not advertise tools');
            const instr = client.getInstructions();
            assert(typeof instr === 'string' && instr.length > 0, 'no instructions in the initialize result');
            assert(tap.outgoing.some(o => o.msg.method === 'notifications/initialized'),
                   'the client sent no notifications/initialized');
        },
        call: (client, params, options) => client.callTool(params, CallToolResultSchema, options),
        alive: client => client.ping(),
        aliveWhat: 'ping',
        checkRequest(msg) {
            assert(msg.jsonrpc === '2.0', 'request is not JSON-RPC 2.0');
        },
    }, 137);
}
