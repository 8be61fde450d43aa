/* doctor.h - `nemo-mcp doctor`: checks the setup, one line per check.
 *
 * Every line starts with "OK  ", "WARN" or "FAIL": config dir, token
 * source and expiry (never the token), client id, skill attribution and the
 * SKILL.md it came from, base URL, and a live call to the backend. */
#ifndef NEMO_DOCTOR_H
#define NEMO_DOCTOR_H

#include <stdio.h>
#include "nemo/api.h"
#include "nemo/skill.h"

/* Run every check against api and write the report to out. Returns 0 when
 * nothing FAILed, 1 otherwise. */
int doctor_run(nemo_api *api, FILE *out);

/* The same, building the client from skill (which may be NULL): a base URL
 * that api_new refuses becomes a FAIL line instead of no report at all. */
int doctor_run_skill(const nemo_skill *skill, FILE *out);

#endif
