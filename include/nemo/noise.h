/* noise.h - backend boilerplate that is not part of the agent's reply.
 *
 * NemoVideo's skill: "Ignore trailing 'I encountered a temporary issue' if
 * prior responses were normal." The phrases live in one table
 * (src/api/noise.c). */
#ifndef NEMO_NOISE_H
#define NEMO_NOISE_H

#include <stddef.h>

/* The length reply[0..len) keeps once a trailing noise sentence that
 * follows normal text is cut (trailing white space cut with it); len when
 * there is none, or when the noise is all there is (then it is the only
 * news the agent gave, and stays). Pure. */
size_t noise_trim_trailing(const char *reply, size_t len);

#endif
