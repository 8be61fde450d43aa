/* curl_dyn.h - libcurl, loaded on first use (private to src/api).
 *
 * The binary does not link libcurl. curl_dyn.c defines the libcurl
 * functions this code calls, under their own names and prototypes from
 * <curl/curl.h>, so the call sites stay plain libcurl; the first call of
 * any of them dlopen()s the library. Functions this file does not cover
 * fail to link: add them to the tables in curl_dyn.c. */
#ifndef NEMO_CURL_DYN_H
#define NEMO_CURL_DYN_H

#include "nemo/error.h"

/* Load and initialise libcurl if not yet done (once per process; thread
 * safe). 0 when it is usable; else -1 and err: NEMO_E_CONFIG "libcurl could
 * not be loaded: <why>; install libcurl4". While it is not usable every
 * wrapper fails as libcurl reports failure (NULL, CURLE_FAILED_INIT, ...)
 * and never crashes. */
int curldyn_load(nemo_err *err);

/* Tests only: load soname instead of the library built against. Has an
 * effect only before the first libcurl call of the process. */
void curldyn_set_library_for_test(const char *soname);

#endif
