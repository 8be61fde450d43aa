/* gui.h - the backend writes as if the user had a visual editor. Rewrite
 * those instructions (English and Chinese) into what an agent can do with
 * this server's tools, and list the next steps. Table-driven. */
#ifndef NEMO_GUI_H
#define NEMO_GUI_H

#include <cjson/cJSON.h>
#include "nemo/cancel.h"

/* *rewritten: the reply with GUI phrases replaced (caller frees).
 * *actions: array of {tool, arguments, why}, deduplicated, in order of
 * first mention (caller frees). 0 on success. */
int gui_translate(const char *reply, char **rewritten, cJSON **actions);
/* The same, giving up (-1, nothing filled) once cancel is requested.
 * Linear in the reply whatever it holds. */
int gui_translate_cancel(const char *reply, nemo_cancel *cancel,
                         char **rewritten, cJSON **actions);

#endif
