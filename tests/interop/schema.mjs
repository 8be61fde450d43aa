// Validation of every server->client message against the official MCP JSON
// schema of the protocol era in use (../shared/mcp/ beside the repository).
//
// Each message is checked as a JSONRPCMessage and then as the specific type
// it must be: a response as the result type of the request it answers, a
// notification as a ServerNotification (or the Tasks extension's), a request
// as a ServerRequest (none exist in the stateless era).

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export const HANDSHAKE = '2025-11-25';
export const STATELESS = '2026-07-28';
const TASKS_ID = 'https://modelcontextprotocol.io/ext-tasks/schema.json';

export function schemaDir(root) {
    const candidates = [process.env.MCP_SCHEMA_DIR, resolve(root, '..', 'shared', 'mcp'),
                        '/work/shared/mcp'].filter(Boolean);
    for (const dir of candidates) {
        if (existsSync(join(dir, `schema-${HANDSHAKE}.json`))) return dir;
    }
    throw new Error(`MCP schemas not found (looked in ${candidates.join(', ')})`);
}

// Result type of each request method, per era. Methods not listed are
// checked as the generic Result.
const RESULTS = {
    [HANDSHAKE]: {
        'initialize': 'InitializeResult',
        'ping': 'EmptyResult',
        'logging/setLevel': 'EmptyResult',
        'tools/list': 'ListToolsResult',
        'tools/call': 'CallToolResult',
        'prompts/list': 'ListPromptsResult',
        'prompts/get': 'GetPromptResult',
        'resources/list': 'ListResourcesResult',
        'resources/templates/list': 'ListResourceTemplatesResult',
        'resources/read': 'ReadResourceResult',
        'resources/subscribe': 'EmptyResult',
        'resources/unsubscribe': 'EmptyResult',
        'completion/complete': 'CompleteResult',
        'tasks/get': 'GetTaskResult',
        'tasks/list': 'ListTasksResult',
        'tasks/cancel': 'CancelTaskResult',
    },
    [STATELESS]: {
        'server/discover': 'DiscoverResult',
        'ping': 'EmptyResult',
        'tools/list': 'ListToolsResult',
        'tools/call': ['CallToolResult', 'InputRequiredResult'],
        'prompts/list': 'ListPromptsResult',
        'prompts/get': 'GetPromptResult',
        'resources/list': 'ListResourcesResult',
        'resources/templates/list': 'ListResourceTemplatesResult',
        'resources/read': 'ReadResourceResult',
        'subscriptions/listen': 'SubscriptionsListenResult',
        'completion/complete': 'CompleteResult',
    },
};
// Tasks extension (2026 era): its methods are typed by schema-ext-tasks.json.
const TASK_RESULTS = {
    'tasks/get': 'GetTaskResult',
    'tasks/update': 'UpdateTaskResult',
    'tasks/cancel': 'CancelTaskResult',
};

function formatErrors(errors) {
    return (errors || []).slice(0, 12).map(e => {
        const where = e.instancePath || '(root)';
        const extra = e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : '';
        return `${where} ${e.message}${extra}`;
    });
}

export class EraValidator {
    constructor(era, dir) {
        if (!RESULTS[era]) throw new Error(`unknown era ${era}`);
        this.era = era;
        this.key = `mcp-${era}`;
        this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
        addFormats(this.ajv);
        this.ajv.addSchema(JSON.parse(readFileSync(join(dir, `schema-${era}.json`), 'utf8')), this.key);
        const tasks = join(dir, 'schema-ext-tasks.json');
        this.hasTasks = era === STATELESS && existsSync(tasks);
        if (this.hasTasks) this.ajv.addSchema(JSON.parse(readFileSync(tasks, 'utf8')));
        this.cache = new Map();
    }

    validator(name, ext = false) {
        const ref = ext ? `${TASKS_ID}#/$defs/${name}` : `${this.key}#/$defs/${name}`;
        let v = this.cache.get(ref);
        if (!v) {
            v = this.ajv.getSchema(ref);
            if (!v) throw new Error(`schema has no definition ${ref}`);
            this.cache.set(ref, v);
        }
        return v;
    }

    // Errors (strings) of `value` against one definition, or [] when valid.
    check(name, value, ext = false) {
        const v = this.validator(name, ext);
        return v(value) ? [] : formatErrors(v.errors).map(e => `${name}: ${e}`);
    }

    // Errors against any of several definitions ([] if one accepts it).
    checkAny(names, value, ext = false) {
        const all = [];
        for (const name of names) {
            const errs = this.check(name, value, ext);
            if (!errs.length) return [];
            all.push(...errs);
        }
        return all;
    }

    // `msg`: one parsed message the server wrote. `method`: the method of
    // the client request it answers, when it is a response.
    validateServerMessage(msg, method) {
        const errors = this.check('JSONRPCMessage', msg);
        if (errors.length) return this.explain(msg) || errors;
        const isResponse = 'result' in msg || 'error' in msg;
        if (isResponse) {
            if ('error' in msg) return this.check('JSONRPCErrorResponse', msg);
            return this.checkResult(method, msg.result);
        }
        if ('id' in msg) {
            if (this.era === STATELESS) return ['the server sent a request (' + msg.method +
                '): the stateless era has no server-to-client requests'];
            return this.check('ServerRequest', msg);
        }
        if (this.hasTasks && /^notifications\/tasks(\/|$)/.test(msg.method)) {
            return this.check('TaskStatusNotification', msg, true);
        }
        return this.check('ServerNotification', msg);
    }

    // JSONRPCMessage is an anyOf: report the errors of the branch the
    // message meant to be rather than of all four.
    explain(msg) {
        if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return null;
        const branch = 'result' in msg ? 'JSONRPCResultResponse'
            : 'error' in msg ? 'JSONRPCErrorResponse'
            : 'id' in msg ? 'JSONRPCRequest' : 'JSONRPCNotification';
        const errs = this.check(branch, msg);
        return errs.length ? errs : null;
    }

    checkResult(method, result) {
        if (this.hasTasks && TASK_RESULTS[method]) return this.check(TASK_RESULTS[method], result, true);
        if (this.era === STATELESS && result && result.resultType === 'task' && method === 'tools/call') {
            return this.check('CreateTaskResult', result, true);
        }
        if (this.era === HANDSHAKE && method === 'tools/call' && result && 'task' in result) {
            return this.check('CreateTaskResult', result);
        }
        const type = RESULTS[this.era][method] || 'Result';
        return Array.isArray(type) ? this.checkAny(type, result) : this.check(type, result);
    }
}
