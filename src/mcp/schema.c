/* schema.c - the tool descriptions: schemas/<tool>.json, embedded into the
 * binary at build time (tools/embed.c), parsed once, listed in tool_all()
 * order. A tool without a valid description is a build mistake; loading
 * fails loudly instead of serving a half list. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "nemo/log.h"
#include "nemo/schema.h"
#include "nemo/tool.h"

/* Generated: build/gen/schemas.c. */
extern const struct {
    const char *name;
    const char *text;
} embedded_files[];

static pthread_mutex_t schema_mu = PTHREAD_MUTEX_INITIALIZER;
static cJSON *schema_list;    /* array of Tool objects */
static int schema_state;      /* 0 not loaded, 1 loaded, -1 failed */

static const char *embedded_text(const char *file)
{
    size_t i;

    for (i = 0; embedded_files[i].name; i++)
        if (strcmp(embedded_files[i].name, file) == 0)
            return embedded_files[i].text;
    return NULL;
}

/* Check the fields MCP requires of a Tool and the ones we promise. */
static int tool_shape_ok(const cJSON *t, const char *name)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(t, "name");
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(t, "inputSchema");
    const cJSON *out = cJSON_GetObjectItemCaseSensitive(t, "outputSchema");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(in, "type");
    const char *why = NULL;

    if (!cJSON_IsObject(t))
        why = "not a JSON object";
    else if (!cJSON_IsString(n) || strcmp(n->valuestring, name) != 0)
        why = "\"name\" does not match the tool";
    else if (!cJSON_IsString(
                 cJSON_GetObjectItemCaseSensitive(t, "description")))
        why = "\"description\" missing";
    else if (!cJSON_IsObject(in) || !cJSON_IsString(type) ||
             strcmp(type->valuestring, "object") != 0)
        why = "\"inputSchema\" must be an object schema";
    else if (out && (!cJSON_IsObject(out) ||
                     !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(out,
                                                                      "type"))))
        why = "\"outputSchema\" must be an object schema";
    if (why)
        LOG_ERROR("schema", "schemas/%s.json: %s", name, why);
    return why == NULL;
}

static int load_locked(void)
{
    const tool_def *const *all = tool_all();
    cJSON *list = cJSON_CreateArray();
    char file[160];
    size_t i;

    if (!list)
        return -1;
    for (i = 0; all && all[i]; i++) {
        const char *text;
        cJSON *t;

        snprintf(file, sizeof file, "%s.json", all[i]->name);
        text = embedded_text(file);
        if (!text) {
            LOG_ERROR("schema", "no schemas/%s for tool %s", file,
                      all[i]->name);
            goto fail;
        }
        t = cJSON_Parse(text);
        if (!t || !tool_shape_ok(t, all[i]->name)) {
            if (!t)
                LOG_ERROR("schema", "schemas/%s is not valid JSON", file);
            cJSON_Delete(t);
            goto fail;
        }
        cJSON_AddItemToArray(list, t);
    }
    schema_list = list;
    return 0;
fail:
    cJSON_Delete(list);
    return -1;
}

int schema_load(void)
{
    int rc;

    pthread_mutex_lock(&schema_mu);
    if (schema_state == 0)
        schema_state = load_locked() == 0 ? 1 : -1;
    rc = schema_state == 1 ? 0 : -1;
    pthread_mutex_unlock(&schema_mu);
    return rc;
}

void schema_unload(void)
{
    pthread_mutex_lock(&schema_mu);
    cJSON_Delete(schema_list);
    schema_list = NULL;
    schema_state = 0;
    pthread_mutex_unlock(&schema_mu);
}

/* After a successful schema_load() the list is read-only, so readers need
 * no lock. */
const cJSON *schema_tools(void)
{
    return schema_list;
}

const cJSON *schema_tool(const char *name)
{
    const cJSON *t;

    if (!name)
        return NULL;
    cJSON_ArrayForEach(t, schema_list) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(t, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return t;
    }
    return NULL;
}
