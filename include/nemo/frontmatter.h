/* frontmatter.h - the YAML between a SKILL.md's leading "---" lines, read
 * with libyaml: every scalar style, block scalars with their indicators,
 * comments, block and flow collections. Anchors, aliases and tags are
 * refused. Malformed input gives an error naming its line, never a crash. */
#ifndef NEMO_FRONTMATTER_H
#define NEMO_FRONTMATTER_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* Object of top-level keys: scalars become strings, flow collections become
 * JSON values, nested block mappings become objects. NULL + err on failure
 * (no frontmatter, unterminated, bad syntax with the line number). */
cJSON *fm_parse(const char *text, size_t len, char *err, size_t errlen);
/* Convenience: string value of key, or NULL. */
const char *fm_get_string(const cJSON *fm, const char *key);

#endif
