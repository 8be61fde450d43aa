/* out.c - the single writer of protocol messages. Every message goes out
 * whole, in one locked write loop, so a progress notification from one
 * worker can never land in the middle of another worker's response. A
 * broken pipe means the host went away: stop writing, wake the reader,
 * shut down quietly. No registered secret goes out (log.h). Nothing
 * here logs while holding the lock (the log observer may itself want to
 * write). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mcp_internal.h"

void mcp_out_init(mcp_out *o, int fd, int wake_fd)
{
    o->fd = fd;
    o->broken = 0;
    o->wake_fd = wake_fd;
    pthread_mutex_init(&o->mu, NULL);
}

void mcp_out_destroy(mcp_out *o)
{
    pthread_mutex_destroy(&o->mu);
}

int mcp_out_broken(mcp_out *o)
{
    return __atomic_load_n(&o->broken, __ATOMIC_ACQUIRE);
}

/* text + "\n" with one writev, looping over partial writes and EINTR. */
static int write_line(int fd, const char *text, size_t len)
{
    struct iovec iov[2];
    int first = 0;

    iov[0].iov_base = (void *)text;
    iov[0].iov_len = len;
    iov[1].iov_base = (void *)"\n";
    iov[1].iov_len = 1;
    while (first < 2) {
        ssize_t w = writev(fd, iov + first, 2 - first);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        while (first < 2 && (size_t)w >= iov[first].iov_len) {
            w -= (ssize_t)iov[first].iov_len;
            iov[first].iov_len = 0;
            first++;
        }
        if (first < 2) {
            iov[first].iov_base = (char *)iov[first].iov_base + w;
            iov[first].iov_len -= (size_t)w;
        }
    }
    return 0;
}

static void mark_broken(mcp_out *o)
{
    char c = 'x';
    ssize_t w;

    if (__atomic_exchange_n(&o->broken, 1, __ATOMIC_ACQ_REL))
        return;
    if (o->wake_fd >= 0)
        do
            w = write(o->wake_fd, &c, 1);
        while (w < 0 && errno == EINTR);
}

int mcp_out_send_text(mcp_out *o, const char *text, size_t len)
{
    int rc = 0, err = 0;

    pthread_mutex_lock(&o->mu);
    if (o->broken)
        rc = -1;
    else if (write_line(o->fd, text, len) != 0)
        rc = -1, err = errno;
    pthread_mutex_unlock(&o->mu);
    if (rc != 0 && err) {
        mark_broken(o);
        if (err != EPIPE)
            LOG_WARN("mcp", "writing to stdout failed: %s", strerror(err));
    }
    return rc;
}

int mcp_out_send(mcp_out *o, const cJSON *msg)
{
    char *text;
    size_t len;
    int rc;

    if (mcp_out_broken(o))
        return -1;
    text = cJSON_PrintUnformatted(msg);
    if (!text) {
        LOG_ERROR("mcp", "out of memory serialising a message");
        return -1;
    }
    /* Tool results are redacted where they are built; this is the last
     * gate for everything else that carries backend text (a resource's
     * timeline, the agent's question put to the person). */
    if (log_contains_secret(text)) {
        cJSON *copy = cJSON_Duplicate(msg, 1);

        free(text);
        log_redact_json(copy);
        text = copy ? cJSON_PrintUnformatted(copy) : NULL;
        cJSON_Delete(copy);
        if (!text) {
            LOG_ERROR("mcp", "out of memory serialising a message");
            return -1;
        }
    }
    len = strlen(text);
    /* cJSON copies bytes as they are: a tool text with broken UTF-8 would
     * make the line invalid JSON for the host. Repair it here, once. */
    if (!rpc_utf8_valid(text, len)) {
        nemo_buf b = NEMO_BUF_INIT;

        if (mcp_utf8_sanitize(text, len, &b) == 0) {
            free(text);
            text = buf_detach(&b);
            len = text ? strlen(text) : 0;
        }
        buf_free(&b);
        if (!text)
            return -1;
    }
    rc = mcp_out_send_text(o, text, len);
    free(text);
    return rc;
}
