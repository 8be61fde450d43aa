/* registry.c - the tools in tools/list order, lookup by name, running one
 * (or refusing to, when the configuration was refused), and the resumers
 * that pick up journalled jobs after a restart. */
#include <stdatomic.h>
#include <string.h>

#include "tools_internal.h"

static const tool_def *const all_tools[] = {
    &tool_credits_def,
    &tool_session_def,
    &tool_upload_def,
    &tool_generate_def,
    &tool_job_def,
    &tool_state_def,
    &tool_export_def,
    NULL
};

/* Resumers have no call to take the backend client from, so the env given
 * at registration is remembered here (owned by main; outlives the jobs). */
static _Atomic(tool_env *) resume_env;

const tool_def *const *tool_all(void)
{
    return all_tools;
}

const tool_def *tool_find(const char *name)
{
    size_t i;

    if (!name)
        return NULL;
    for (i = 0; all_tools[i]; i++)
        if (strcmp(all_tools[i]->name, name) == 0)
            return all_tools[i];
    return NULL;
}

int tool_run(const tool_def *def, tool_call *call, tool_output *out)
{
    const char *problem = call->env ? call->env->config_problem : NULL;

    if (problem) {
        result_error(&out->result, NULL, "%s", problem);
        out->job_id[0] = '\0';
        return 0;
    }
    return def->run(call, out);
}

nemo_api *tool_resume_api(void)
{
    tool_env *env = atomic_load(&resume_env);

    return env ? env->api : NULL;
}

void tool_register_resumers(tool_env *env)
{
    static const struct {
        const char *tool;
        job_resumer fn;
    } resumers[] = {
        { "generate", tool_generate_resume },
        { "export", tool_export_resume },
        { "upload", tool_upload_resume },
    };
    size_t i;

    atomic_store(&resume_env, env);
    for (i = 0; i < sizeof resumers / sizeof resumers[0]; i++)
        job_table_set_resumer(env->jobs, resumers[i].tool, resumers[i].fn);
}
