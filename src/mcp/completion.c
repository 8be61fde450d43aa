/* completion.c - completion/complete: values for prompt arguments and for
 * the timeline template's {session}.
 *
 * Fixed sets (aspect ratio, length, quality, suggestions) come from
 * prompts.c's table, filtered by what was typed. Path arguments offer the
 * entries of a folder that lie inside the allowed folders (fspolicy: env
 * roots and the host's roots): media files upload accepts for inputs,
 * folders for export destinations; folders end in "/" so the host can
 * descend. Nothing outside the roots is ever listed. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "nemo/json.h"
#include "nemo/fspolicy.h"
#include "mcp_internal.h"

#define COMPLETE_MAX 100        /* the schema's cap on values */
#define COMPLETE_SCAN 4096      /* directory entries looked at, in all */
#define COMPLETE_ROOTS 32

typedef struct complete_out {
    cJSON *values;
    int total;
} complete_out;

static void offer(complete_out *o, const char *v)
{
    o->total++;
    if (cJSON_GetArraySize(o->values) < COMPLETE_MAX)
        cJSON_AddItemToArray(o->values, cJSON_CreateString(v));
}

static void offer_choices(complete_out *o, const char *const *choices,
                          const char *typed)
{
    size_t n = strlen(typed);

    for (; choices && *choices; choices++)
        if (strncasecmp(*choices, typed, n) == 0)
            offer(o, *choices);
}

static void offer_array(complete_out *o, const cJSON *arr, const char *typed)
{
    const cJSON *it;
    size_t n = strlen(typed);

    cJSON_ArrayForEach(it, arr)
        if (cJSON_IsString(it) && strncmp(it->valuestring, typed, n) == 0)
            offer(o, it->valuestring);
}

/* ---- paths ---- */

typedef struct path_ctx {
    fsp_access access;
    int want_files;               /* media files too, not only folders */
    char roots[COMPLETE_ROOTS][PATH_MAX];
    size_t nroots;
    int budget;        /* entries left to look at: the reader thread waits */
} path_ctx;

static int collect_root(void *ctx, const char *dir)
{
    path_ctx *p = ctx;

    if (p->nroots < COMPLETE_ROOTS)
        snprintf(p->roots[p->nroots++], PATH_MAX, "%s", dir);
    return p->nroots == COMPLETE_ROOTS;
}

/* A media file upload accepts, by extension (the file check proper runs
 * at upload). The list reads "mp4, mov, ...". */
static int media_name(const char *name)
{
    const char *dot = strrchr(name, '.'), *p = tool_upload_types();
    size_t n, k;

    if (!dot || !dot[1])
        return 0;
    n = strlen(dot + 1);
    while (*p) {
        p += strspn(p, ", ");
        k = strcspn(p, ", ");
        if (k == n && strncasecmp(p, dot + 1, n) == 0)
            return 1;
        p += k;
    }
    return 0;
}

/* Inside an allowed folder, or a folder on the way to one. */
static int reachable(const path_ctx *p, const char *real, int is_dir)
{
    char why[8];
    size_t i;

    if (fsp_check(p->access, real, why, sizeof why) == 0)
        return 1;
    for (i = 0; is_dir && i < p->nroots; i++)
        if (fsp_inside(p->roots[i], real))
            return 1;
    return 0;
}

/* Offer the entries of dir whose names start with prefix, each as
 * shown + name (+ "/" for folders). */
static void offer_dir(complete_out *o, path_ctx *p, const char *dir,
                      const char *shown, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t plen = strlen(prefix);

    while (d && p->budget > 0 && (e = readdir(d))) {
        p->budget--;
        char full[PATH_MAX], real[PATH_MAX], v[PATH_MAX + 2];
        struct stat st;
        int is_dir;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            (e->d_name[0] == '.' && prefix[0] != '.') ||
            strncmp(e->d_name, prefix, plen) != 0)
            continue;
        if (snprintf(full, sizeof full, "%s/%s", dir, e->d_name) >=
                (int)sizeof full ||
            stat(full, &st) != 0 || !realpath(full, real))
            continue;
        is_dir = S_ISDIR(st.st_mode);
        if (!is_dir && !(p->want_files && S_ISREG(st.st_mode) &&
                         media_name(e->d_name)))
            continue;
        if (!reachable(p, real, is_dir))
            continue;
        snprintf(v, sizeof v, "%s%s%s", shown, e->d_name, is_dir ? "/" : "");
        offer(o, v);
    }
    if (d)
        closedir(d);
}

/* Split typed into the folder part (kept as typed) and the name prefix;
 * dir is where the folder part points. */
static int split_typed(const char *typed, const char *base, char *dir,
                       char *shown, const char **prefix)
{
    const char *slash = strrchr(typed, '/');
    size_t keep = slash ? (size_t)(slash - typed + 1) : 0;

    *prefix = typed + keep;
    if (snprintf(shown, PATH_MAX, "%.*s", (int)keep, typed) >= PATH_MAX)
        return -1;
    if (typed[0] == '/')
        return snprintf(dir, PATH_MAX, "%s", keep ? shown : "/") >= PATH_MAX
                   ? -1 : 0;
    return snprintf(dir, PATH_MAX, "%s/%s", base, shown) >= PATH_MAX ? -1 : 0;
}

static void offer_paths(complete_out *o, mcp_arg_kind kind, const char *typed)
{
    path_ctx *p = calloc(1, sizeof *p);
    char dir[PATH_MAX], shown[PATH_MAX], expanded[PATH_MAX];
    const char *prefix, *home = getenv("HOME");
    size_t i;

    if (!p)
        return;
    p->budget = COMPLETE_SCAN;
    p->access = kind == MCP_ARG_FOLDER ? FSP_WRITE : FSP_READ;
    p->want_files = kind == MCP_ARG_MEDIA_FILE;
    fsp_each_root(p->access, collect_root, p);
    if (typed[0] == '~' && (typed[1] == '/' || !typed[1]) && home &&
        snprintf(expanded, sizeof expanded, "%s%s", home, typed + 1) <
            (int)sizeof expanded)
        typed = expanded;
    if (typed[0] == '/') {
        if (split_typed(typed, "", dir, shown, &prefix) == 0)
            offer_dir(o, p, dir, shown, prefix);
    } else if (p->nroots) {
        /* Relative: inside each allowed folder, shown absolute. */
        for (i = 0; i < p->nroots; i++) {
            nemo_buf disp = NEMO_BUF_INIT;

            if (split_typed(typed, p->roots[i], dir, shown, &prefix) != 0)
                continue;
            buf_printf(&disp, "%s%s%s", p->roots[i],
                       strcmp(p->roots[i], "/") == 0 ? "" : "/", shown);
            if (disp.data && disp.len < PATH_MAX)
                offer_dir(o, p, dir, disp.data, prefix);
            buf_free(&disp);
        }
    } else if (split_typed(typed, ".", dir, shown, &prefix) == 0) {
        /* No folder bounds access: relative to the working directory, as
         * upload reads them. */
        offer_dir(o, p, dir, shown, prefix);
    }
    free(p);
}

/* ---- the method ---- */

static cJSON *invalid(const mcp_req *req, const char *msg)
{
    return rpc_error(req->id, RPC_INVALID_PARAMS, msg, NULL);
}

cJSON *mcp_m_complete(mcp_server *s, mcp_req *req, rpc_msg *m)
{
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(req->params, "ref");
    const cJSON *arg = cJSON_GetObjectItemCaseSensitive(req->params,
                                                        "argument");
    const char *type = json_str(ref, "type");
    const char *name = json_str(arg, "name");
    const char *typed = json_str(arg, "value");
    const char *uri = json_str(ref, "uri");
    const char *const *choices = NULL;
    complete_out o = { NULL, 0 };
    mcp_arg_kind kind;
    cJSON *res, *c;

    (void)m;
    if (!type || !name || !typed || strlen(typed) >= PATH_MAX)
        return invalid(req, "Invalid params: \"ref\" with a \"type\" and "
                       "\"argument\" with a \"name\" and a \"value\" are "
                       "required");
    o.values = cJSON_CreateArray();
    if (strcmp(type, "ref/prompt") == 0 &&
        mcp_prompt_arg(json_str(ref, "name"),
                       name, &kind, &choices) == 0) {
        if (kind == MCP_ARG_CHOICE)
            offer_choices(&o, choices, typed);
        else if (kind == MCP_ARG_MEDIA_FILE || kind == MCP_ARG_FOLDER)
            offer_paths(&o, kind, typed);
    } else if (strcmp(type, "ref/resource") == 0 && uri &&
               strcmp(uri, MCP_RES_TEMPLATE) == 0 &&
               strcmp(name, "session") == 0) {
        cJSON *sessions = mcp_resources_sessions(s);

        offer_array(&o, sessions, typed);
        cJSON_Delete(sessions);
    } else {
        cJSON_Delete(o.values);
        return invalid(req, "Invalid params: nothing to complete for this "
                       "reference and argument (prompts/list and "
                       "resources/templates/list name them)");
    }
    res = cJSON_CreateObject();
    c = cJSON_AddObjectToObject(res, "completion");
    cJSON_AddItemToObject(c, "values", o.values);
    cJSON_AddNumberToObject(c, "total", o.total);
    cJSON_AddBoolToObject(c, "hasMore", o.total > COMPLETE_MAX);
    return rpc_result(req->id, mcp_result_finish(req, res));
}
