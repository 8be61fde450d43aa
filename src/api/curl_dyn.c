/* curl_dyn.c - libcurl, loaded on first use.
 *
 * Linking -lcurl makes the dynamic loader map libcurl and its ~30
 * dependencies (OpenSSL, nghttp2, libssh2, LDAP, Kerberos, GnuTLS through
 * librtmp, ...) before main: about 6 MB of resident memory and several ms
 * on every start, although the server answers initialize and tools/list
 * without any HTTP. So the binary does not link libcurl. This file defines
 * the libcurl functions the code calls, with their real names (the
 * compiler checks each definition against the prototype in <curl/curl.h>);
 * each forwards to the real function, which the first call of any of them
 * resolves with dlopen + dlsym.
 *
 * The definitions live in the executable but are not exported (it is not
 * linked with -rdynamic and no linked library refers to them), so libcurl's
 * own calls to its API still bind inside libcurl.
 *
 * The library is never unloaded: OpenSSL and libcurl keep process-wide
 * state, and the handle stays reachable until exit. */
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "curl_dyn.h"
#include "nemo/platform.h"

/* The Makefile names the installed library's soname when it can ask it
 * (readelf); else the system's usual name (libcurl.4.dylib on macOS). */
#ifndef CURLDYN_SONAME
#define CURLDYN_SONAME PLAT_CURL_SONAME
#endif

/* Non-variadic functions: name (after "curl_"), result, parameters,
 * arguments, and what the wrapper returns while libcurl is not loaded
 * (what libcurl itself returns for a failure). */
#define CURLDYN_FUNCS(X) \
    X(global_init, CURLcode, (long flags), (flags), CURLE_FAILED_INIT) \
    X(version, char *, (void), (), (char *)"libcurl not loaded") \
    X(easy_strerror, const char *, (CURLcode code), (code), \
      "libcurl not loaded") \
    X(getdate, time_t, (const char *p, const time_t *unused), (p, unused), \
      (time_t)-1) \
    X(easy_init, CURL *, (void), (), NULL) \
    X(easy_perform, CURLcode, (CURL *h), (h), CURLE_FAILED_INIT) \
    X(easy_escape, char *, (CURL *h, const char *s, int n), (h, s, n), NULL) \
    X(slist_append, struct curl_slist *, \
      (struct curl_slist *l, const char *s), (l, s), NULL) \
    X(mime_init, curl_mime *, (CURL *h), (h), NULL) \
    X(mime_addpart, curl_mimepart *, (curl_mime *m), (m), NULL) \
    X(mime_name, CURLcode, (curl_mimepart *p, const char *s), (p, s), \
      CURLE_FAILED_INIT) \
    X(mime_data_cb, CURLcode, \
      (curl_mimepart *p, curl_off_t size, curl_read_callback rd, \
       curl_seek_callback sk, curl_free_callback fr, void *arg), \
      (p, size, rd, sk, fr, arg), CURLE_FAILED_INIT) \
    X(mime_filename, CURLcode, (curl_mimepart *p, const char *s), (p, s), \
      CURLE_FAILED_INIT) \
    X(mime_type, CURLcode, (curl_mimepart *p, const char *s), (p, s), \
      CURLE_FAILED_INIT) \
    X(multi_init, CURLM *, (void), (), NULL) \
    X(multi_add_handle, CURLMcode, (CURLM *m, CURL *h), (m, h), \
      CURLM_INTERNAL_ERROR) \
    X(multi_remove_handle, CURLMcode, (CURLM *m, CURL *h), (m, h), \
      CURLM_INTERNAL_ERROR) \
    X(multi_perform, CURLMcode, (CURLM *m, int *running), (m, running), \
      CURLM_INTERNAL_ERROR) \
    X(multi_poll, CURLMcode, \
      (CURLM *m, struct curl_waitfd extra_fds[], unsigned int extra_nfds, \
       int timeout_ms, int *ret), \
      (m, extra_fds, extra_nfds, timeout_ms, ret), CURLM_INTERNAL_ERROR) \
    X(multi_info_read, CURLMsg *, (CURLM *m, int *left), (m, left), NULL) \
    X(multi_cleanup, CURLMcode, (CURLM *m), (m), CURLM_INTERNAL_ERROR) \
    X(share_init, CURLSH *, (void), (), NULL) \
    X(share_cleanup, CURLSHcode, (CURLSH *s), (s), CURLSHE_INVALID) \
    X(url, CURLU *, (void), (), NULL) \
    X(url_get, CURLUcode, \
      (CURLU *u, CURLUPart what, char **part, unsigned int flags), \
      (u, what, part, flags), CURLUE_OUT_OF_MEMORY) \
    X(url_set, CURLUcode, \
      (CURLU *u, CURLUPart what, const char *part, unsigned int flags), \
      (u, what, part, flags), CURLUE_OUT_OF_MEMORY)

/* No result: nothing to do while libcurl is not loaded (nothing of its can
 * exist then). */
#define CURLDYN_PROCS(X) \
    X(global_cleanup, (void), ()) \
    X(free, (void *p), (p)) \
    X(easy_cleanup, (CURL *h), (h)) \
    X(slist_free_all, (struct curl_slist *l), (l)) \
    X(mime_free, (curl_mime *m), (m)) \
    X(url_cleanup, (CURLU *u), (u))

/* Variadic: forwarded by hand below, by the type of the option. */
#define CURLDYN_VARIADIC(X) \
    X(easy_setopt, CURLcode, (CURL *, CURLoption, ...)) \
    X(easy_getinfo, CURLcode, (CURL *, CURLINFO, ...)) \
    X(share_setopt, CURLSHcode, (CURLSH *, CURLSHoption, ...))

#define FN_FIELD(name, ret, params, args, failval) ret (*name) params;
#define PROC_FIELD(name, params, args) void (*name) params;
#define VA_FIELD(name, ret, params) ret (*name) params;

static struct {
    CURLDYN_FUNCS(FN_FIELD)
    CURLDYN_PROCS(PROC_FIELD)
    CURLDYN_VARIADIC(VA_FIELD)
} curldyn_fn;

static pthread_once_t curldyn_once = PTHREAD_ONCE_INIT;
static const char *curldyn_soname = CURLDYN_SONAME;
static int curldyn_ok;
static nemo_err_kind curldyn_kind = NEMO_E_CONFIG;
static char curldyn_why[512];

/* dlsym's answer, or NULL with the reason in curldyn_why. */
static void *curldyn_sym(void *lib, const char *name)
{
    void *p;
    const char *e;

    dlerror();
    p = dlsym(lib, name);
    if (!p) {
        e = dlerror();
        snprintf(curldyn_why, sizeof curldyn_why, "%s",
                 e ? e : "a libcurl function is missing");
    }
    return p;
}

#define RESOLVE(name, type) \
    if (!(curldyn_fn.name = (type)curldyn_sym(lib, "curl_" #name))) \
        goto fail;
#define FN_RESOLVE(name, ret, params, args, failval) \
    RESOLVE(name, ret (*) params)
#define PROC_RESOLVE(name, params, args) RESOLVE(name, void (*) params)
#define VA_RESOLVE(name, ret, params) RESOLVE(name, ret (*) params)

/* pthread_once body: after it, curldyn_ok says whether every pointer in
 * curldyn_fn is set, and curldyn_why says why not. */
static void curldyn_open(void)
{
    void *lib = dlopen(curldyn_soname, RTLD_NOW | RTLD_LOCAL);
    const char *e;

    if (!lib) {
        e = dlerror();
        snprintf(curldyn_why, sizeof curldyn_why, "%s",
                 e ? e : curldyn_soname);
        return;
    }
    CURLDYN_FUNCS(FN_RESOLVE)
    CURLDYN_PROCS(PROC_RESOLVE)
    CURLDYN_VARIADIC(VA_RESOLVE)
    /* Once, before any other libcurl call, inside pthread_once: libcurl
     * wants its global init done before threads use it. This reference is
     * held until exit; the HTTP layer's own init/cleanup pairs nest in it. */
    if (curldyn_fn.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        curldyn_kind = NEMO_E_NETWORK;
        snprintf(curldyn_why, sizeof curldyn_why,
                 "libcurl failed to initialise");
        goto fail;
    }
    curldyn_ok = 1;
    return;
fail:
    dlclose(lib);
}

static int curldyn_ready(void)
{
    pthread_once(&curldyn_once, curldyn_open);
    return curldyn_ok;
}

int curldyn_load(nemo_err *err)
{
    if (curldyn_ready())
        return 0;
    if (curldyn_kind == NEMO_E_CONFIG)
        err_set(err, NEMO_E_CONFIG, "libcurl could not be loaded: %s; "
                "install libcurl4", curldyn_why);
    else
        err_set(err, curldyn_kind, "%s", curldyn_why);
    return -1;
}

void curldyn_set_library_for_test(const char *soname)
{
    curldyn_soname = soname;
}

/* ---- the wrappers ---- */

#define FN_WRAP(name, ret, params, args, failval) \
    ret curl_##name params \
    { \
        return curldyn_ready() ? curldyn_fn.name args : (failval); \
    }
#define PROC_WRAP(name, params, args) \
    void curl_##name params \
    { \
        if (curldyn_ready()) \
            curldyn_fn.name args; \
    }

CURLDYN_FUNCS(FN_WRAP)
CURLDYN_PROCS(PROC_WRAP)

/* The variadic option argument is read back with the type its option
 * number says (curl.h: CURLOPTTYPE_*), then passed on as that type. */
typedef void (*curldyn_funcptr)(void);

CURLcode (curl_easy_setopt)(CURL *h, CURLoption option, ...)
{
    CURLcode rc;
    va_list ap;

    if (!curldyn_ready())
        return CURLE_FAILED_INIT;
    va_start(ap, option);
    if (option < CURLOPTTYPE_OBJECTPOINT) {
        long v = va_arg(ap, long);

        rc = curldyn_fn.easy_setopt(h, option, v);
    } else if (option < CURLOPTTYPE_FUNCTIONPOINT ||
               option >= CURLOPTTYPE_BLOB) {
        void *v = va_arg(ap, void *);

        rc = curldyn_fn.easy_setopt(h, option, v);
    } else if (option < CURLOPTTYPE_OFF_T) {
        curldyn_funcptr v = va_arg(ap, curldyn_funcptr);

        rc = curldyn_fn.easy_setopt(h, option, v);
    } else {
        curl_off_t v = va_arg(ap, curl_off_t);

        rc = curldyn_fn.easy_setopt(h, option, v);
    }
    va_end(ap);
    return rc;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode (curl_easy_getinfo)(CURL *h, CURLINFO info, ...)
{
    va_list ap;
    void *p;

    if (!curldyn_ready())
        return CURLE_FAILED_INIT;
    va_start(ap, info);
    p = va_arg(ap, void *);
    va_end(ap);
    return curldyn_fn.easy_getinfo(h, info, p);
}

CURLSHcode (curl_share_setopt)(CURLSH *s, CURLSHoption option, ...)
{
    CURLSHcode rc = CURLSHE_BAD_OPTION;
    va_list ap;

    if (!curldyn_ready())
        return CURLSHE_INVALID;
    va_start(ap, option);
    switch (option) {
    case CURLSHOPT_SHARE:
    case CURLSHOPT_UNSHARE: {
        int v = va_arg(ap, int);    /* a curl_lock_data, read as int */

        rc = curldyn_fn.share_setopt(s, option, v);
        break;
    }
    case CURLSHOPT_LOCKFUNC:
    case CURLSHOPT_UNLOCKFUNC: {
        curldyn_funcptr v = va_arg(ap, curldyn_funcptr);

        rc = curldyn_fn.share_setopt(s, option, v);
        break;
    }
    case CURLSHOPT_USERDATA: {
        void *v = va_arg(ap, void *);

        rc = curldyn_fn.share_setopt(s, option, v);
        break;
    }
    default:
        break;
    }
    va_end(ap);
    return rc;
}
