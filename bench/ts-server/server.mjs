#!/usr/bin/env node
// The comparison server of bench/run.py: a minimal MCP server on the
// official TypeScript SDK (@modelcontextprotocol/server, both protocol eras
// through serveStdio) exposing nemo-mcp's seven tools with the same names
// and JSON schemas, read from ../../schemas/*.json at start-up (as nemo-mcp
// embeds them at build time). The tools do trivial work: each answers with
// the smallest structuredContent its output schema accepts, except that
// `generate` and `job` first wait `wait_seconds` (abortable), which is what
// the in-flight ping benchmark holds open.
//
//   node bench/ts-server/server.mjs          (NEMO_SCHEMAS_DIR overrides)

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { McpServer, fromJsonSchema } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';

const HERE = dirname(fileURLToPath(import.meta.url));
const SCHEMAS = process.env.NEMO_SCHEMAS_DIR || resolve(HERE, '..', '..', 'schemas');
// nemo-mcp lists its tools in this fixed order.
const ORDER = ['credits', 'session', 'upload', 'generate', 'job', 'state', 'export'];
const HOLDING = new Set(['generate', 'job']);

function loadTools(dir) {
    const byName = new Map();
    for (const file of readdirSync(dir).filter(f => f.endsWith('.json'))) {
        const tool = JSON.parse(readFileSync(join(dir, file), 'utf8'));
        if (tool && typeof tool.name === 'string') byName.set(tool.name, tool);
    }
    const names = [...ORDER.filter(n => byName.has(n)),
                   ...[...byName.keys()].filter(n => !ORDER.includes(n)).sort()];
    return names.map(n => byName.get(n));
}

// The smallest value a (simple) JSON schema accepts: enough for the output
// schemas of the tools, which are objects of scalars, arrays and objects.
function minimal(schema) {
    if (!schema || typeof schema !== 'object') return null;
    if ('const' in schema) return schema.const;
    if (Array.isArray(schema.enum)) return schema.enum[0];
    for (const key of ['anyOf', 'oneOf']) {
        if (Array.isArray(schema[key]) && schema[key].length) return minimal(schema[key][0]);
    }
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    switch (type) {
    case 'object': {
        const out = {};
        for (const name of schema.required || []) out[name] = minimal(schema.properties?.[name]);
        return out;
    }
    case 'array': {
        const n = schema.minItems || 0;
        return Array.from({ length: n }, () => minimal(schema.items));
    }
    case 'string': return 'x'.repeat(schema.minLength || 0);
    case 'integer':
    case 'number': return schema.minimum ?? 0;
    case 'boolean': return false;
    case 'null': return null;
    default: return null;
    }
}

function hold(ms, signal) {
    return new Promise(resolveHold => {
        if (signal?.aborted) return resolveHold();
        const timer = setTimeout(resolveHold, ms);
        signal?.addEventListener('abort', () => { clearTimeout(timer); resolveHold(); }, { once: true });
    });
}

const TOOLS = loadTools(SCHEMAS);

function makeServer() {
    const server = new McpServer(
        { name: 'nemo-mcp-ts-reference', title: 'NemoVideo (TypeScript SDK reference)', version: '0.0.0' },
        { capabilities: { tools: {} },
          instructions: 'Benchmark stand-in for nemo-mcp: same tools, trivial work.' });
    for (const tool of TOOLS) {
        const output = minimal(tool.outputSchema);
        server.registerTool(tool.name, {
            title: tool.title,
            description: tool.description,
            inputSchema: fromJsonSchema(tool.inputSchema),
            ...(tool.outputSchema ? { outputSchema: fromJsonSchema(tool.outputSchema) } : {}),
            annotations: tool.annotations,
        }, async (args, ctx) => {
            if (HOLDING.has(tool.name)) {
                const secs = typeof args?.wait_seconds === 'number' ? args.wait_seconds : 45;
                await hold(secs * 1000, ctx?.mcpReq?.signal);
            }
            return {
                content: [{ type: 'text', text: `${tool.name}: done` }],
                ...(tool.outputSchema ? { structuredContent: output } : {}),
            };
        });
    }
    return server;
}

serveStdio(makeServer, { onerror: err => process.stderr.write(`ts-server: ${err.message}\n`) });
