/* error.h - one typed error for everything the backend (or the disk, or the
 * user's input) can say. Messages are written for a person and redacted of
 * secrets by err_set. */
#ifndef NEMO_ERROR_H
#define NEMO_ERROR_H

#include <cjson/cJSON.h>

typedef enum {
    NEMO_OK = 0,
    NEMO_E_AUTH,        /* 1001: token expired or invalid */
    NEMO_E_SESSION,     /* 1002: session not found */
    NEMO_E_CREDITS,     /* 2001: out of credits */
    NEMO_E_FILE_TYPE,   /* 4001: unsupported file type */
    NEMO_E_FILE_SIZE,   /* 4002: file too large */
    NEMO_E_CLIENT_ID,   /* HTTP 400: missing/invalid X-Client-Id */
    NEMO_E_PLAN,        /* HTTP 402: plan restriction (not credits) */
    NEMO_E_RATE,        /* HTTP 429 */
    NEMO_E_NETWORK,     /* connect/DNS/TLS/reset */
    NEMO_E_SERVER,      /* HTTP 5xx */
    NEMO_E_PROTOCOL,    /* unparsable or unexpected response */
    NEMO_E_BACKEND,     /* other non-zero code / 4xx */
    NEMO_E_CANCELLED,
    NEMO_E_TIMEOUT,
    NEMO_E_INVALID,     /* bad input from the caller */
    NEMO_E_IO,          /* local file system */
    NEMO_E_NOT_FOUND,
    NEMO_E_CONFIG       /* refused configuration (plain http to a remote..) */
} nemo_err_kind;

typedef struct nemo_err {
    nemo_err_kind kind;
    int http_status;      /* 0 when no HTTP response */
    long code;            /* envelope code, 0 when none */
    char message[768];    /* for a person; never contains the token */
    char bind_id[128];    /* 2001: id for the registration link's ?bind= */
    char link[256];       /* 2001: registration/top-up link when known */
    char detail[320];     /* 2001: " (backend: <msg>)" or "" */
} nemo_err;

void err_clear(nemo_err *e);
void err_set(nemo_err *e, nemo_err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Map an HTTP status + envelope (code, msg, data) to kind and message using
 * the seeds' table. data may be NULL. */
void err_from_response(nemo_err *e, int http_status, long code,
                       const char *msg, const cJSON *data);
/* A 2001 error whose backend gave no link: use link (built by the
 * client, api_register_url) and say so in the message. */
void err_credits_link(nemo_err *e, const char *link);
const char *err_kind_name(nemo_err_kind kind);  /* "auth", "credits", ... */
/* What a person or model should do next, one sentence; "" when nothing. */
const char *err_advice(nemo_err_kind kind);

#endif
