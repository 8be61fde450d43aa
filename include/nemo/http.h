/* http.h - thin libcurl wrapper: one request, streaming in and out,
 * cancellable, no knowledge of the NemoVideo envelope. */
#ifndef NEMO_HTTP_H
#define NEMO_HTTP_H

#include <stddef.h>
#include <stdio.h>
#include "nemo/buf.h"
#include "nemo/cancel.h"
#include "nemo/error.h"
#include "nemo/progress.h"

/* One part of a multipart/form-data body, streamed from an open file:
 * exactly the first size bytes of fd are sent (pread, never read whole),
 * so what goes out is what was checked, whatever happens to the path.
 * A file that shrinks fails at once; one that grew or was modified
 * (size or mtime differ at the end) fails before the body is complete,
 * so the server never gets a whole file. */
typedef struct http_part {
    const char *field;       /* "files" */
    int fd;                  /* open, readable; not closed here */
    long long size;          /* bytes to send (the checked size) */
    long long mtime_ns;      /* the checked mtime; 0: not compared */
    const char *filename;    /* name sent to the server */
    const char *content_type;
} http_part;

/* Which hops must go to public https addresses (links from the backend
 * must not reach this machine or its network). Checked on the URL and on
 * the address actually connected, before anything is sent. */
typedef enum {
    HTTP_PUBLIC_NONE = 0,    /* any allowed URL (http_url_allowed) */
    HTTP_PUBLIC_REDIRECTS,   /* redirect targets only */
    HTTP_PUBLIC_ALL          /* every hop (a URL the backend handed over) */
} http_public;

typedef struct http_request {
    const char *method;          /* "GET", "POST" */
    const char *url;             /* absolute */
    const char *const *headers;  /* NULL-terminated "Name: value" list */
    const char *body;            /* JSON body or NULL */
    size_t body_len;
    const http_part *parts;      /* multipart parts or NULL */
    size_t nparts;
    /* Streamed response body: called for each chunk; return non-zero to
     * abort. When NULL the body is collected into http_response.body. */
    int (*on_data)(void *ctx, const char *data, size_t n);
    void *on_data_ctx;
    size_t body_max;             /* collected body cap; 0: 32 MiB */
    long connect_timeout_ms;     /* 0: 10 s */
    long total_timeout_ms;       /* 0: none (streams); else cap */
    long low_speed_secs;         /* abort if < 1 byte/s for this long; 0 off */
    nemo_cancel *cancel;         /* aborts the transfer promptly */
    const nemo_progress *progress; /* upload/download progress, may be NULL */
    const char *progress_label;  /* "uploading clip.mp4" */
    http_public public_only;     /* default: none */
} http_request;

typedef struct http_response {
    int status;                  /* 0 when no response */
    nemo_buf body;               /* when on_data is NULL */
    long long content_length;    /* -1 when unknown */
    char content_type[128];
    char retry_after[64];        /* raw Retry-After header, "" when none */
    double upload_bytes;
    double download_bytes;
    /* Filled even when http_perform fails: */
    int request_sent;            /* 1 once request bytes reached the wire;
                                  * 0 means a retry cannot duplicate it */
    int transport_error;         /* libcurl's CURLcode, 0 when none */
    int reader_aborted;          /* on_data returned non-zero */
    int redirects;               /* redirects followed */
} http_response;

/* Header lines of one response, as libcurl hands them over. */
typedef struct http_header_state {
    int block_start;     /* the next line may be a status line */
    int body_started;    /* body bytes arrived: later lines are trailers */
} http_header_state;

void http_header_init(http_header_state *st);
/* One header line: bytes and a length (no NUL promised; CRLF may be
 * included). A status line ("HTTP/<version> <3 digits>") counts only as
 * the first line of a header block before the body: it sets r->status and
 * forgets the previous block's headers. Content-Length (strict decimal,
 * else -1), Content-Type and Retry-After fill r. Returns 0, or -1 for a
 * malformed status line (r->status is then 0). Pure: no I/O. */
int http_header_parse(http_header_state *st, const char *line, size_t n,
                      http_response *r);

/* Call once per process before threads start; http_global_cleanup at exit.
 * Cheap: libcurl itself is loaded and set up by the first http_perform. */
int http_global_init(void);
void http_global_cleanup(void);

void http_response_init(http_response *r);
void http_response_free(http_response *r);

/* Perform the request. status and content_type are filled before the
 * first on_data call, so a reader can tell an error page from a stream.
 * Hops that req->public_only covers must be https to a public address,
 * checked on the URL and on each address before connecting to it.
 * Redirects: at most 3, only to https (or loopback http); 303 (and 301/302
 * after a POST) continue as GET; an Authorization header is never sent to
 * a different scheme/host/port than the one it was given for.
 * 0 when a response arrived (any status), -1 on a
 * transport failure, cancel or abort (err: NEMO_E_NETWORK, NEMO_E_TIMEOUT,
 * NEMO_E_CANCELLED). Refuses plain http:// to non-loopback hosts
 * (NEMO_E_CONFIG). TLS verification is always on. */
int http_perform(const http_request *req, http_response *resp, nemo_err *err);

/* URL checks shared with the api layer. */
int http_url_is_loopback(const char *url);
/* 0 when url is https, or http to a loopback host; else -1 + err. */
int http_url_allowed(const char *url, nemo_err *err);
/* Host of url as libcurl parses it (IPv6 in brackets); -1 when invalid. */
int http_url_host(const char *url, char *out, size_t n);
/* 1 when a and b have the same scheme, host and port. */
int http_same_origin(const char *a, const char *b);
/* 1 for localhost, 127.0.0.0/8, ::1 and ::ffff:127.x (host as above). */
int http_host_is_loopback(const char *host);

#endif
