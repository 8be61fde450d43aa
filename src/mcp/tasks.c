/* tasks.c - the Tasks extension (io.modelcontextprotocol/tasks) of the
 * 2026-07-28 protocol: a long tools/call answered with a task handle, then
 * tasks/get, tasks/cancel and tasks/update on it.
 *
 * A task is a job (include/nemo/job.h): the task id is the job id, so a
 * task survives this process through the job journal, and job_lookup()
 * finds (and resumes) one that another process started.
 *
 * Status mapping, as the extension specifies: a job that produced a tool
 * result is "completed" with that CallToolResult in `result`, even when the
 * result is a tool error (isError: true); "failed" is kept for JSON-RPC
 * errors, here a finished job whose result cannot be read back.
 *
 * A running job that waits for the person's answer to the video agent's
 * question (job_input_wait) is "input_required": tasks/get carries the
 * elicitation form as an input request (elicitation.c builds it), and the
 * client answers with tasks/update; the job then goes on ("working") and
 * sends the answer to the agent. Declined, cancelled, or no answer within
 * NEMO_ELICIT_TIMEOUT_MS: the task completes with the needs_input result.
 * The question lives in this process; when it dies, the next one finds
 * the job journalled as "asking" and completes the task with that
 * needs_input result, saying the question went unanswered. */
#include <stdio.h>
#include <string.h>

#include "nemo/clock.h"
#include "mcp_internal.h"

#define TASK_POLL_MS 2000
#define TASK_TTL_DEFAULT_MS (24LL * 3600 * 1000)

long long mcp_task_ttl_ms(void)
{
    return clock_env_ms("NEMO_JOB_TTL_MS", TASK_TTL_DEFAULT_MS, 1000,
                        365LL * 24 * 3600 * 1000);
}

static void add_time(cJSON *o, const char *key, long long wall_ms)
{
    char iso[40];

    clock_iso8601(wall_ms, iso, sizeof iso);
    cJSON_AddStringToObject(o, key, iso);
}

static const char *finished_message(job_status st)
{
    switch (st) {
    case JOB_FAILED:
        return "finished with an error; see the result";
    case JOB_INTERRUPTED:
        return "interrupted: the process running it stopped; see the result";
    case JOB_CANCELLED:
        return "cancelled";
    default:
        return "completed";
    }
}

/* The Task fields; with detail, also result/error of a finished task. */
static cJSON *task_json(const mcp_req *req, nemo_job *j, int detail)
{
    job_status st = job_get_status(j);
    cJSON *t = cJSON_CreateObject();
    cJSON *question;
    char text[256] = "";
    nemo_result r;
    unsigned seq = 0;

    if (!t)
        return NULL;
    cJSON_AddStringToObject(t, "taskId", job_id(j));
    if (st == JOB_RUNNING && (question = job_input_pending(j, &seq))) {
        cJSON_AddStringToObject(t, "status", "input_required");
        cJSON_AddStringToObject(t, "statusMessage", "waiting for the user's "
                                "answer to the video agent's question");
        if (detail)
            cJSON_AddItemToObject(t, "inputRequests",
                                  mcp_elicit_task_requests(req, question,
                                                           seq));
        cJSON_Delete(question);
    } else if (st == JOB_RUNNING) {
        cJSON_AddStringToObject(t, "status", "working");
        job_progress_text(j, text, sizeof text);
        cJSON_AddStringToObject(t, "statusMessage", text[0] ? text
                                                            : "working");
    } else if (st == JOB_CANCELLED) {
        cJSON_AddStringToObject(t, "status", "cancelled");
        cJSON_AddStringToObject(t, "statusMessage", finished_message(st));
    } else if (!detail) {
        cJSON_AddStringToObject(t, "status", "completed");
        cJSON_AddStringToObject(t, "statusMessage", finished_message(st));
    } else if (job_result(j, &r) == 0) {
        cJSON *res = mcp_call_result(req, &r);

        /* The CallToolResult as tools/call would have returned it. */
        cJSON_AddStringToObject(res, "resultType", "complete");
        cJSON_AddStringToObject(t, "status", "completed");
        cJSON_AddStringToObject(t, "statusMessage", finished_message(st));
        cJSON_AddItemToObject(t, "result", res);
        result_free(&r);
    } else {
        cJSON *e = cJSON_CreateObject();

        cJSON_AddStringToObject(t, "status", "failed");
        cJSON_AddStringToObject(t, "statusMessage",
                                "the task's result is no longer available");
        cJSON_AddNumberToObject(e, "code", RPC_INTERNAL_ERROR);
        cJSON_AddStringToObject(e, "message",
                                "The task finished but its result could not "
                                "be read; run the tool again.");
        cJSON_AddItemToObject(t, "error", e);
    }
    add_time(t, "createdAt", job_created_ms(j));
    add_time(t, "lastUpdatedAt", job_updated_ms(j));
    cJSON_AddNumberToObject(t, "ttlMs", (double)mcp_task_ttl_ms());
    cJSON_AddNumberToObject(t, "pollIntervalMs", TASK_POLL_MS);
    return t;
}

cJSON *mcp_task_created(const mcp_req *req, tool_env *env, const char *id,
                        cJSON **err)
{
    nemo_job *j = job_lookup(env->jobs, id);
    cJSON *t;

    *err = NULL;
    if (!j) {
        LOG_ERROR("tasks", "tool returned job %s but it cannot be found", id);
        *err = rpc_error(req->id, RPC_INTERNAL_ERROR,
                         "The background job could not be created", NULL);
        return NULL;
    }
    t = task_json(req, j, 0);
    job_unref(j);
    if (t)
        cJSON_AddStringToObject(t, "resultType", "task");
    return t;
}

/* tasks/update: the answer to the question the job waits on goes to it;
 * responses for any other key are ignored, as the extension says. NULL:
 * acknowledge; else the error response. */
static cJSON *task_update(const mcp_req *req, nemo_job *j)
{
    const cJSON *ir = cJSON_GetObjectItemCaseSensitive(req->params,
                                                       "inputResponses");
    cJSON *question, *reply = NULL;
    unsigned seq = 0;
    int rc;

    question = job_input_pending(j, &seq);
    if (!question)
        return NULL;
    rc = mcp_elicit_task_reply(ir, question, seq, &reply);
    cJSON_Delete(question);
    if (rc < 0)
        return rpc_error(req->id, RPC_INVALID_PARAMS,
                         "Invalid params: the input response must be an "
                         "ElicitResult ({\"action\": \"accept\" | "
                         "\"decline\" | \"cancel\", \"content\": {...}}); "
                         "the question is still open", NULL);
    if (rc == 0 && job_input_answer(j, seq, reply) != 0)
        LOG_INFO("tasks", "%s: the answer came after the question closed",
                 job_id(j));
    return NULL;
}

static cJSON *missing_capability(const mcp_req *req)
{
    cJSON *data = cJSON_CreateObject();
    cJSON *caps = cJSON_AddObjectToObject(data, "requiredCapabilities");
    cJSON *ext = cJSON_AddObjectToObject(caps, "extensions");

    cJSON_AddObjectToObject(ext, MCP_EXT_TASKS);
    return rpc_error(req->id, MCP_MISSING_CLIENT_CAP,
                     "Missing required client capability: declare the "
                     MCP_EXT_TASKS " extension in the request's "
                     MCP_META_CAPS, data);
}

cJSON *mcp_task_method(const mcp_req *req, tool_env *env)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req->params, "taskId");
    const char *m = req->method;
    cJSON *res = NULL;
    nemo_job *j;
    char note[256];

    if (!req->modern)
        return rpc_error(req->id, RPC_METHOD_NOT_FOUND,
                         "Method not found: tasks are served through the "
                         MCP_EXT_TASKS " extension of protocol 2026-07-28",
                         NULL);
    if (!req->tasks_ok)
        return missing_capability(req);
    if (!cJSON_IsString(id) || !id->valuestring[0] ||
        strlen(id->valuestring) >= 80)
        return rpc_error(req->id, RPC_INVALID_PARAMS,
                         "Invalid params: \"taskId\" must be a task id string",
                         NULL);
    if (strcmp(m, "tasks/update") == 0 &&
        !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(req->params,
                                                         "inputResponses")))
        return rpc_error(req->id, RPC_INVALID_PARAMS,
                         "Invalid params: \"inputResponses\" must be an "
                         "object", NULL);
    /* With a refused configuration no job runs here, and looking one up
     * in the journal could close a job another process still follows. */
    j = env->config_problem ? NULL : job_lookup(env->jobs, id->valuestring);
    if (!j)
        return rpc_error(req->id, RPC_INVALID_PARAMS,
                         "Failed to retrieve task: Task not found (it may "
                         "have expired)", NULL);
    if (strcmp(m, "tasks/get") == 0) {
        res = task_json(req, j, 1);
    } else if (strcmp(m, "tasks/cancel") == 0) {
        note[0] = '\0';
        job_cancel(j, note, sizeof note);
        if (note[0])
            LOG_INFO("tasks", "cancel %s: %s", job_id(j), note);
        res = cJSON_CreateObject();
    } else {
        cJSON *err = task_update(req, j);

        if (err) {
            job_unref(j);
            return err;
        }
        res = cJSON_CreateObject();
    }
    job_unref(j);
    return rpc_result(req->id, mcp_result_finish(req, res));
}
