/* prompts.c - starters a host shows as slash commands. Each is a row of
 * the table: its arguments (and how completion.c completes them) and a
 * text with {argument} placeholders; an optional argument given fills its
 * clause, one not given leaves nothing. The text names the tools to use,
 * in order, so the model does not have to guess the flow. */
#include <stdio.h>
#include <string.h>

#include "nemo/json.h"
#include "mcp_internal.h"

#define PROMPT_MAX_ARGS 4
#define PROMPT_ARG_MAX 4096

typedef struct prompt_arg {
    const char *name;
    const char *title;
    const char *description;
    int required;
    mcp_arg_kind kind;
    const char *const *choices;   /* MCP_ARG_CHOICE */
    const char *clause;           /* optional: text for {name}, with {} */
} prompt_arg;

typedef struct prompt_def {
    const char *name;
    const char *title;
    const char *description;
    prompt_arg args[PROMPT_MAX_ARGS];
    const char *text;
} prompt_def;

static const char *const aspect_ratios[] = { "16:9", "9:16", "1:1", "4:5",
                                             NULL };
static const char *const lengths[] = { "5", "10", "15", "30", "60", NULL };
static const char *const qualities[] = { "high", NULL };
static const char *const motions[] = {
    "slow zoom in", "slow zoom out", "pan left to right", "pan right to left",
    "gentle parallax", "camera push forward", NULL,
};
static const char *const music_styles[] = {
    "lo-fi", "cinematic", "upbeat pop", "acoustic", "electronic", "ambient",
    "hip-hop", "jazz", "corporate", NULL,
};

#define ARG_ASPECT { "aspect_ratio", "Aspect ratio", "16:9 (landscape), " \
    "9:16 (vertical), 1:1 (square) or 4:5.", 0, MCP_ARG_CHOICE,          \
    aspect_ratios, " Use the aspect ratio {}." }

static const prompt_def prompts[] = {
    { "animate_image", "Animate an image",
      "Turn a still image into a short video with the motion you describe.",
      { { "image", "Image", "Path of the image file to animate.", 1,
          MCP_ARG_MEDIA_FILE, NULL, NULL },
        { "motion", "Motion", "How it should move, e.g. \"slow zoom in\".",
          1, MCP_ARG_CHOICE, motions, NULL },
        ARG_ASPECT,
        { "length", "Length (seconds)", "How long the video should be.", 0,
          MCP_ARG_CHOICE, lengths, " Make it {} seconds long." } },
      "Animate the image {image} with this motion: {motion}.{aspect_ratio}"
      "{length}\n\nUse the NemoVideo tools:\n"
      "1. `upload` with files = [the image path above].\n"
      "2. `generate` with a prompt asking the video agent to animate the "
      "uploaded image with that motion (and the format and length above).\n"
      "3. If `generate` returns a job, call `job` with it until it is done.\n"
      "4. `state` to check the timeline, then tell me what was made and "
      "offer to `export` it." },
    { "trim_clip", "Cut a clip to length",
      "Upload a clip and cut it to the length you want.",
      { { "clip", "Clip", "Path of the video file.", 1, MCP_ARG_MEDIA_FILE,
          NULL, NULL },
        { "length", "Length (seconds)", "The length to cut it to.", 1,
          MCP_ARG_CHOICE, lengths, NULL },
        ARG_ASPECT },
      "Cut the video {clip} to {length} seconds, keeping the best part."
      "{aspect_ratio}\n\nUse the NemoVideo tools:\n"
      "1. `upload` with files = [the clip path above].\n"
      "2. `generate` with a prompt asking the video agent to trim the "
      "uploaded clip to that length.\n"
      "3. If `generate` returns a job, call `job` with it until it is done.\n"
      "4. `state` to confirm the new duration." },
    { "music_and_captions", "Add music and captions",
      "Add background music in a style and a caption to the current video.",
      { { "style", "Music style", "The kind of background music.", 1,
          MCP_ARG_CHOICE, music_styles, NULL },
        { "caption", "Caption", "The text to show on screen.", 1,
          MCP_ARG_FREE, NULL, NULL } },
      "Add {style} background music and the caption \"{caption}\" to the "
      "current video.\n\nUse the NemoVideo tools:\n"
      "1. `state` to see what is on the timeline (if it is empty, ask me "
      "for media and `upload` it first).\n"
      "2. `generate` with a prompt asking the video agent for that music "
      "and caption.\n"
      "3. If `generate` returns a job, call `job` with it until it is done.\n"
      "4. `state` to check the new tracks." },
    { "export_to", "Export the video",
      "Render the current video to MP4 and save it in a folder.",
      { { "folder", "Folder", "Where to save the MP4.", 1, MCP_ARG_FOLDER,
          NULL, NULL },
        { "quality", "Quality", "Render quality.", 0, MCP_ARG_CHOICE,
          qualities, " Render quality: {}." } },
      "Export the current video and save it in {folder}.{quality}\n\n"
      "Use the NemoVideo tools:\n"
      "1. `state` to make sure the timeline is not empty.\n"
      "2. `export` with download_to = the folder above.\n"
      "3. If `export` returns a job, call `job` with it until it is done, "
      "then tell me where the file is." },
    { "video_from_idea", "Make a video from an idea",
      "Start a new project and let the video agent make a video from a "
      "description.",
      { { "idea", "Idea", "What the video is about, in your words.", 1,
          MCP_ARG_FREE, NULL, NULL },
        ARG_ASPECT,
        { "length", "Length (seconds)", "How long the video should be.", 0,
          MCP_ARG_CHOICE, lengths, " Make it {} seconds long." } },
      "Make a video about: {idea}.{aspect_ratio}{length}\n\n"
      "Use the NemoVideo tools:\n"
      "1. `session` with action \"new\" to start a fresh project.\n"
      "2. `generate` with that description as the prompt.\n"
      "3. If `generate` returns a job, call `job` with it until it is done; "
      "answer the agent's questions with another `generate`.\n"
      "4. `state` to check the result, then offer to `export` it." },
};
#define N_PROMPTS (sizeof prompts / sizeof prompts[0])

static const prompt_def *prompt_find(const char *name)
{
    size_t i;

    for (i = 0; name && i < N_PROMPTS; i++)
        if (strcmp(prompts[i].name, name) == 0)
            return &prompts[i];
    return NULL;
}

static const prompt_arg *arg_find(const prompt_def *p, const char *name)
{
    size_t i;

    for (i = 0; name && i < PROMPT_MAX_ARGS && p->args[i].name; i++)
        if (strcmp(p->args[i].name, name) == 0)
            return &p->args[i];
    return NULL;
}

int mcp_prompt_arg(const char *prompt, const char *arg, mcp_arg_kind *kind,
                   const char *const **choices)
{
    const prompt_def *p = prompt_find(prompt);
    const prompt_arg *a = p ? arg_find(p, arg) : NULL;

    if (!a)
        return -1;
    *kind = a->kind;
    *choices = a->choices;
    return 0;
}

static cJSON *prompt_json(const prompt_def *p, const mcp_version *v)
{
    cJSON *o = cJSON_CreateObject(), *args;
    size_t i;

    cJSON_AddStringToObject(o, "name", p->name);
    if (v->features & MCP_F_STRUCTURED)
        cJSON_AddStringToObject(o, "title", p->title);
    cJSON_AddStringToObject(o, "description", p->description);
    args = cJSON_AddArrayToObject(o, "arguments");
    for (i = 0; i < PROMPT_MAX_ARGS && p->args[i].name; i++) {
        cJSON *a = cJSON_CreateObject();

        cJSON_AddStringToObject(a, "name", p->args[i].name);
        if (v->features & MCP_F_STRUCTURED)
            cJSON_AddStringToObject(a, "title", p->args[i].title);
        cJSON_AddStringToObject(a, "description", p->args[i].description);
        cJSON_AddBoolToObject(a, "required", p->args[i].required);
        cJSON_AddItemToArray(args, a);
    }
    return o;
}

cJSON *mcp_m_prompts_list(mcp_server *s, mcp_req *req, rpc_msg *m)
{
    cJSON *res, *arr;
    size_t i;

    (void)s;
    (void)m;
    if (cJSON_GetObjectItemCaseSensitive(req->params, "cursor"))
        return rpc_error(req->id, RPC_INVALID_PARAMS, "Invalid params: "
                         "unknown cursor (prompts/list is not paginated)",
                         NULL);
    res = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(res, "prompts");
    for (i = 0; i < N_PROMPTS; i++)
        cJSON_AddItemToArray(arr, prompt_json(&prompts[i], req->version));
    if (req->modern) {
        cJSON_AddNumberToObject(res, "ttlMs", MCP_LIST_TTL_MS);
        cJSON_AddStringToObject(res, "cacheScope", "public");
    }
    return rpc_result(req->id, mcp_result_finish(req, res));
}

/* The value of argument a in args, or NULL when not given (blank counts
 * as not given). */
static const char *arg_value(const cJSON *args, const prompt_arg *a)
{
    const char *v = json_str(args, a->name);

    return v && v[strspn(v, " \t\r\n")] ? v : NULL;
}

/* Fill the placeholders of p->text. */
static void render(const prompt_def *p, const cJSON *args, nemo_buf *out)
{
    const char *t = p->text, *open, *close;

    while ((open = strchr(t, '{')) && (close = strchr(open, '}'))) {
        char name[64];
        const prompt_arg *a;
        const char *v, *hole;

        buf_append(out, t, (size_t)(open - t));
        snprintf(name, sizeof name, "%.*s", (int)(close - open - 1),
                 open + 1);
        a = arg_find(p, name);
        v = a ? arg_value(args, a) : NULL;
        if (v && a->clause && (hole = strstr(a->clause, "{}"))) {
            buf_append(out, a->clause, (size_t)(hole - a->clause));
            buf_puts(out, v);
            buf_puts(out, hole + 2);
        } else if (v) {
            buf_puts(out, v);
        }
        t = close + 1;
    }
    buf_puts(out, t);
}

/* An error message for bad arguments into msg; 0 when they are fine. */
static int check_args(const prompt_def *p, const cJSON *args, char *msg,
                      size_t n)
{
    const cJSON *it;
    size_t i;

    if (args && !cJSON_IsObject(args)) {
        snprintf(msg, n, "Invalid params: \"arguments\" must be an object");
        return -1;
    }
    cJSON_ArrayForEach(it, args) {
        if (!arg_find(p, it->string)) {
            snprintf(msg, n, "Invalid params: prompt %s has no argument "
                     "\"%.64s\"", p->name, it->string);
            return -1;
        }
        if (!cJSON_IsString(it) || strlen(it->valuestring) > PROMPT_ARG_MAX) {
            snprintf(msg, n, "Invalid params: argument \"%s\" must be a "
                     "string of at most %d bytes", it->string,
                     PROMPT_ARG_MAX);
            return -1;
        }
    }
    for (i = 0; i < PROMPT_MAX_ARGS && p->args[i].name; i++)
        if (p->args[i].required && !arg_value(args, &p->args[i])) {
            snprintf(msg, n, "Invalid params: prompt %s needs the argument "
                     "\"%s\" (%s)", p->name, p->args[i].name,
                     p->args[i].description);
            return -1;
        }
    return 0;
}

cJSON *mcp_m_prompts_get(mcp_server *s, mcp_req *req, rpc_msg *m)
{
    const char *name = json_str(req->params, "name");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(req->params,
                                                         "arguments");
    const prompt_def *p = prompt_find(name);
    nemo_buf text = NEMO_BUF_INIT;
    cJSON *res, *msg, *content;
    char why[300];

    (void)s;
    (void)m;
    if (!p) {
        snprintf(why, sizeof why, "Invalid params: unknown prompt \"%.64s\" "
                 "(prompts/list names them)", name ? name : "");
        return rpc_error(req->id, RPC_INVALID_PARAMS, why, NULL);
    }
    if (check_args(p, args, why, sizeof why) != 0)
        return rpc_error(req->id, RPC_INVALID_PARAMS, why, NULL);
    render(p, args, &text);
    res = cJSON_CreateObject();
    cJSON_AddStringToObject(res, "description", p->description);
    msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "role", "user");
    content = cJSON_AddObjectToObject(msg, "content");
    cJSON_AddStringToObject(content, "type", "text");
    cJSON_AddStringToObject(content, "text", buf_str(&text));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(res, "messages"), msg);
    buf_free(&text);
    return rpc_result(req->id, mcp_result_finish(req, res));
}
