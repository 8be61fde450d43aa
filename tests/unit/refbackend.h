/* refbackend.h - start the reference backend for a C unit test, talk to
 * its /_control/ interface, and set up a client against it.
 *
 *   mb_backend b;
 *   if (mb_start(&b) != 0) ...          (reads "READY http://...:PORT")
 *   mb_control(&b, "/_control/fault", "{...}", &reply);
 *   mb_stop(&b);                        (SIGTERM to the pid we started)
 *
 * Control calls use libcurl directly, so they do not depend on the code
 * under test. */
#ifndef NEMO_TEST_REFBACKEND_H
#define NEMO_TEST_REFBACKEND_H

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "nemo/api.h"
#include "nemo/buf.h"

typedef struct mb_backend {
    pid_t pid;
    FILE *out;
    char url[256];
    char config_dir[256];
} mb_backend;

static int mb_start(mb_backend *b)
{
    const char *script = getenv("NEMO_REFBACKEND");
    char line[256];
    int fds[2];

    memset(b, 0, sizeof *b);
    b->pid = -1;
    if (!script)
        script = "tests/backend/refbackend.py";
    if (access(script, R_OK) != 0) {
        printf("# reference backend not found at %s\n", script);
        return -1;
    }
    if (pipe(fds) != 0)
        return -1;
    b->pid = fork();
    if (b->pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);

        dup2(fds[1], 1);
        if (!getenv("NEMO_TEST_VERBOSE") && devnull >= 0)
            dup2(devnull, 2);
        close(fds[0]);
        close(fds[1]);
        execlp("python3", "python3", script, "--port", "0", "--seed", "7",
               (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    if (b->pid < 0) {
        close(fds[0]);
        return -1;
    }
    b->out = fdopen(fds[0], "r");
    while (b->out && fgets(line, sizeof line, b->out)) {
        if (strncmp(line, "READY ", 6) == 0) {
            line[strcspn(line, "\r\n")] = '\0';
            snprintf(b->url, sizeof b->url, "%s", line + 6);
            break;
        }
    }
    if (!b->url[0]) {
        printf("# the reference backend did not start\n");
        return -1;
    }
    /* A private config dir: never the real ~/.config. */
    snprintf(b->config_dir, sizeof b->config_dir, "/tmp/nemo-mb-XXXXXX");
    if (!mkdtemp(b->config_dir))
        return -1;
    setenv("NEMO_CONFIG_DIR", b->config_dir, 1);
    setenv("NEMO_STATE_DIR", b->config_dir, 1);
    setenv("NEMO_API_BASE", b->url, 1);
    unsetenv("NEMO_TOKEN");
    return 0;
}

static void mb_stop(mb_backend *b)
{
    char cmd[320];

    if (b->pid > 0) {
        kill(b->pid, SIGTERM);
        waitpid(b->pid, NULL, 0);
    }
    if (b->out)
        fclose(b->out);
    if (b->config_dir[0]) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", b->config_dir);
        if (system(cmd) != 0)
            printf("# could not remove %s\n", b->config_dir);
    }
    b->pid = -1;
    b->out = NULL;
}

static size_t mb_collect(char *p, size_t size, size_t n, void *ctx)
{
    return buf_append(ctx, p, size * n) == 0 ? size * n : 0;
}

/* POST body (or GET when body is NULL) to b->url + path; *data gets the
 * envelope's data (caller frees). 0 when the envelope code is 0. */
static int mb_control(mb_backend *b, const char *path, const char *body,
                      cJSON **data)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = NULL;
    nemo_buf resp = NEMO_BUF_INIT;
    char url[512];
    cJSON *env = NULL, *code;
    int rc = -1;

    if (data)
        *data = NULL;
    if (!h)
        return -1;
    snprintf(url, sizeof url, "%s%s", b->url, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, mb_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    if (body) {
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    }
    if (curl_easy_perform(h) == CURLE_OK && resp.len &&
        (env = cJSON_Parse(resp.data)) != NULL) {
        code = cJSON_GetObjectItem(env, "code");
        rc = cJSON_IsNumber(code) && code->valueint == 0 ? 0 : -1;
        if (data)
            *data = cJSON_DetachItemFromObject(env, "data");
    }
    if (rc != 0)
        printf("# control %s failed: %s\n", path, buf_str(&resp));
    cJSON_Delete(env);
    buf_free(&resp);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return rc;
}

/* Requests the backend logged for paths starting with prefix. */
static cJSON *mb_requests(mb_backend *b, const char *prefix)
{
    char path[300];
    cJSON *data = NULL, *reqs;
    char *esc;
    CURL *h = curl_easy_init();

    esc = curl_easy_escape(h, prefix, 0);
    snprintf(path, sizeof path, "/_control/requests?path=%s", esc);
    curl_free(esc);
    curl_easy_cleanup(h);
    if (mb_control(b, path, NULL, &data) != 0)
        return cJSON_CreateArray();
    reqs = cJSON_DetachItemFromObject(data, "requests");
    cJSON_Delete(data);
    return reqs ? reqs : cJSON_CreateArray();
}

__attribute__((unused)) static int mb_count(mb_backend *b, const char *prefix)
{
    cJSON *r = mb_requests(b, prefix);
    int n = cJSON_GetArraySize(r);

    cJSON_Delete(r);
    return n;
}

/* Upload a file by path through api_upload_file (which sends from an
 * open descriptor, as the upload tool does after its checks). */
static inline int mb_upload_path(nemo_api *api, api_ctl *ctl,
                                 const char *sid, const char *path,
                                 const char *name, const char *ctype,
                                 cJSON **data, nemo_err *err)
{
    api_upload_src src;
    off_t size;
    int rc;

    memset(&src, 0, sizeof src);
    src.fd = open(path, O_RDONLY | O_CLOEXEC);
    size = src.fd >= 0 ? lseek(src.fd, 0, SEEK_END) : -1;
    src.bytes = (long long)size;
    src.filename = name;
    src.content_type = ctype;
    rc = api_upload_file(api, ctl, sid, &src, data, err);
    if (src.fd >= 0)
        close(src.fd);
    return rc;
}

#endif
