/* proto.c - the MCP revisions this server speaks and what differs between
 * them, decided per request.
 *
 * A request whose params._meta names io.modelcontextprotocol/protocolVersion
 * is served by that revision (2026-07-28: statelessly, with resultType,
 * serverInfo _meta, caching hints, per-request log level and client
 * capabilities). Any other request is served by the revision the
 * initialize handshake negotiated (or the newest handshake revision when
 * there was none). So one process serves both eras, even interleaved. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemo/json.h"
#include "nemo/schema.h"
#include "mcp_internal.h"
#include "nemo/log.h"

/* Newest first. */
static const mcp_version versions[] = {
    { "2026-07-28", MCP_F_ANNOTATIONS | MCP_F_STRUCTURED | MCP_F_MODERN |
                    MCP_F_STRUCT_ANY | MCP_F_COMPLETIONS | MCP_F_LINKS |
                    MCP_F_ICONS },
    { "2025-11-25", MCP_F_ANNOTATIONS | MCP_F_STRUCTURED |
                    MCP_F_COMPLETIONS | MCP_F_LINKS | MCP_F_ICONS },
    { "2025-06-18", MCP_F_ANNOTATIONS | MCP_F_STRUCTURED |
                    MCP_F_COMPLETIONS | MCP_F_LINKS },
    { "2025-03-26", MCP_F_ANNOTATIONS | MCP_F_COMPLETIONS },
    { "2024-11-05", 0 },
};
#define N_VERSIONS (sizeof versions / sizeof versions[0])

/* RFC 5424 severities as MCP names them, least severe first. */
static const char *const log_levels[] = {
    "debug", "info", "notice", "warning", "error", "critical", "alert",
    "emergency",
};

const mcp_version *mcp_version_find(const char *name)
{
    size_t i;

    for (i = 0; name && i < N_VERSIONS; i++)
        if (strcmp(versions[i].name, name) == 0)
            return &versions[i];
    return NULL;
}

const mcp_version *mcp_version_modern(void)
{
    return &versions[0];
}

const mcp_version *mcp_version_latest_handshake(void)
{
    size_t i;

    for (i = 0; i < N_VERSIONS; i++)
        if (!(versions[i].features & MCP_F_MODERN))
            return &versions[i];
    return &versions[N_VERSIONS - 1];
}

cJSON *mcp_versions_json(void)
{
    cJSON *a = cJSON_CreateArray();
    size_t i;

    for (i = 0; a && i < N_VERSIONS; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(versions[i].name));
    return a;
}

int mcp_log_severity(const char *name)
{
    size_t i;

    for (i = 0; name && i < sizeof log_levels / sizeof log_levels[0]; i++)
        if (strcmp(log_levels[i], name) == 0)
            return (int)i;
    return -1;
}

int mcp_log_severity_of(enum log_level level)
{
    static const int sev[] = { 4, 3, 1, 0 };  /* error warn info debug */

    return level <= NLOG_DEBUG ? sev[level] : 0;
}

const char *mcp_log_level_name(enum log_level level)
{
    return log_levels[mcp_log_severity_of(level)];
}

/* ---- per-request context ---- */

static int req_fail(cJSON **err, const cJSON *id, int code, const char *msg,
                    cJSON *data)
{
    *err = rpc_error(id, code, msg, data);
    return -1;
}

static int req_modern(mcp_req *req, const cJSON *meta, cJSON **err)
{
    const cJSON *caps = cJSON_GetObjectItemCaseSensitive(meta, MCP_META_CAPS);
    const cJSON *lvl = cJSON_GetObjectItemCaseSensitive(meta,
                                                        MCP_META_LOGLEVEL);
    const cJSON *ext;

    if (!cJSON_IsObject(caps))
        return req_fail(err, req->id, RPC_INVALID_PARAMS,
                        "Invalid params: _meta \"" MCP_META_CAPS
                        "\" is required and must be an object", NULL);
    req->client_caps = mcp_client_caps_parse(caps);
    ext = cJSON_GetObjectItemCaseSensitive(caps, "extensions");
    req->tasks_ok = cJSON_IsObject(
        cJSON_GetObjectItemCaseSensitive(ext, MCP_EXT_TASKS));
    req->log_severity = -1;
    if (lvl) {
        req->log_severity = cJSON_IsString(lvl)
                                ? mcp_log_severity(lvl->valuestring) : -1;
        if (req->log_severity < 0)
            return req_fail(err, req->id, RPC_INVALID_PARAMS,
                            "Invalid params: _meta \"" MCP_META_LOGLEVEL
                            "\" must be one of debug, info, notice, warning, "
                            "error, critical, alert, emergency", NULL);
    }
    return 0;
}

int mcp_req_init(mcp_req *req, const rpc_msg *m, const mcp_version *session,
                 cJSON **err)
{
    const cJSON *meta = NULL, *pv = NULL, *tok;

    memset(req, 0, sizeof *req);
    *err = NULL;
    req->id = m->id;
    req->method = m->method;
    req->params = m->params;
    req->log_severity = -1;
    req->version = session ? session : mcp_version_latest_handshake();
    if (m->params) {
        meta = cJSON_GetObjectItemCaseSensitive(m->params, "_meta");
        if (meta && !cJSON_IsObject(meta))
            return req_fail(err, req->id, RPC_INVALID_PARAMS,
                            "Invalid params: \"_meta\" must be an object",
                            NULL);
    }
    tok = cJSON_GetObjectItemCaseSensitive(meta, "progressToken");
    if (cJSON_IsString(tok) || cJSON_IsNumber(tok))
        req->progress_token = tok;
    pv = cJSON_GetObjectItemCaseSensitive(meta, MCP_META_VERSION);
    if (!pv)
        return 0;
    if (!cJSON_IsString(pv))
        return req_fail(err, req->id, RPC_INVALID_PARAMS,
                        "Invalid params: _meta \"" MCP_META_VERSION
                        "\" must be a string", NULL);
    req->version = mcp_version_find(pv->valuestring);
    if (!req->version) {
        cJSON *data = cJSON_CreateObject();

        cJSON_AddItemToObject(data, "supported", mcp_versions_json());
        cJSON_AddStringToObject(data, "requested", pv->valuestring);
        return req_fail(err, req->id, MCP_UNSUPPORTED_VERSION,
                        "Unsupported protocol version", data);
    }
    req->modern = (req->version->features & MCP_F_MODERN) != 0;
    return req->modern ? req_modern(req, meta, err) : 0;
}

cJSON *mcp_server_info(const mcp_version *v)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "name", MCP_SERVER_NAME);
    if (v->features & MCP_F_STRUCTURED)
        cJSON_AddStringToObject(o, "title", MCP_SERVER_TITLE);
    cJSON_AddStringToObject(o, "version", NEMO_VERSION);
    return o;
}

cJSON *mcp_result_finish(const mcp_req *req, cJSON *result)
{
    cJSON *meta;

    if (!result || !req->modern)
        return result;
    if (!cJSON_GetObjectItemCaseSensitive(result, "resultType"))
        cJSON_AddStringToObject(result, "resultType", "complete");
    meta = cJSON_GetObjectItemCaseSensitive(result, "_meta");
    if (!meta)
        meta = cJSON_AddObjectToObject(result, "_meta");
    if (meta && !cJSON_GetObjectItemCaseSensitive(meta, MCP_META_SERVERINFO))
        cJSON_AddItemToObject(meta, MCP_META_SERVERINFO,
                              mcp_server_info(req->version));
    return result;
}

const char *mcp_instructions(void)
{
    return
        "NemoVideo makes and edits videos with an AI video agent. Typical "
        "flow: upload media (or start from a prompt), generate edits with a "
        "plain-language request, check state, then export the video. "
        "Long work (generate turns, exports, large uploads) runs as a job: "
        "the tool waits a bounded time and, when the work is not done yet, "
        "returns a job handle. Call the job tool with that handle to wait "
        "again and collect the result; never repeat the original request "
        "while its job is running (that would spend credits twice), and pass "
        "the same request_id when retrying a generate. Describe results in "
        "your own words and act through these tools: never tell the user to "
        "click buttons or open a web editor. When a tool reports an error it "
        "says what to do next (for example sign-up or top-up links when "
        "credits run out); pass that advice on.";
}

/* A Tool object trimmed to what a revision defines. */
static cJSON *tool_for(const cJSON *tool, const mcp_version *v)
{
    cJSON *t = cJSON_Duplicate(tool, 1);

    if (!t)
        return NULL;
    if (!(v->features & MCP_F_STRUCTURED)) {
        cJSON_DeleteItemFromObjectCaseSensitive(t, "outputSchema");
        cJSON_DeleteItemFromObjectCaseSensitive(t, "title");
    }
    if (!(v->features & MCP_F_ANNOTATIONS))
        cJSON_DeleteItemFromObjectCaseSensitive(t, "annotations");
    mcp_icons_add(t, json_str(t, "name"), v);
    return t;
}

cJSON *mcp_tools_list(const mcp_version *v)
{
    const cJSON *all = schema_tools(), *tool;
    cJSON *res = cJSON_CreateObject(), *arr;

    if (!res)
        return NULL;
    arr = cJSON_AddArrayToObject(res, "tools");
    cJSON_ArrayForEach(tool, all)
        cJSON_AddItemToArray(arr, tool_for(tool, v));
    if (v->features & MCP_F_MODERN) {
        /* The list is the same for every caller and every run of this
         * binary. */
        cJSON_AddNumberToObject(res, "ttlMs", MCP_LIST_TTL_MS);
        cJSON_AddStringToObject(res, "cacheScope", "public");
    }
    return res;
}

cJSON *mcp_call_result(const mcp_req *req, const nemo_result *r)
{
    cJSON *res = cJSON_CreateObject(), *content, *block;
    char *text = NULL;
    unsigned f = req->version->features;

    if (!res)
        return NULL;
    content = cJSON_AddArrayToObject(res, "content");
    block = cJSON_CreateObject();
    cJSON_AddStringToObject(block, "type", "text");
    if (!r->text && r->structured && !r->is_error)
        text = cJSON_PrintUnformatted(r->structured);
    cJSON_AddStringToObject(block, "text",
                            r->text ? r->text : text ? text : "");
    free(text);
    cJSON_AddItemToArray(content, block);
    mcp_resource_links(req, r, content);
    cJSON_AddBoolToObject(res, "isError", r->is_error != 0);
    /* Hosts check structuredContent against the output schema, which
     * describes success: an error carries text only. */
    if (!r->is_error && r->structured && (f & MCP_F_STRUCTURED) &&
        ((f & MCP_F_STRUCT_ANY) || cJSON_IsObject(r->structured)))
        cJSON_AddItemToObject(res, "structuredContent",
                              cJSON_Duplicate(r->structured, 1));
    /* Whatever a tool put together, the token never leaves. */
    log_redact_json(res);
    return res;
}
