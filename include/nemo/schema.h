/* schema.h - tool descriptions embedded from schemas/<tool>.json at build time,
 * and the JSON Schema subset used to validate tool arguments. */
#ifndef NEMO_SCHEMA_H
#define NEMO_SCHEMA_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* Parse the embedded files once (thread-safe); 0 ok. */
int schema_load(void);
void schema_unload(void);
/* MCP Tool object ({name,title,description,inputSchema,outputSchema,
 * annotations}) of a tool, or NULL. Borrowed. */
const cJSON *schema_tool(const char *name);
/* Array of Tool objects in tool_all() order. Borrowed. */
const cJSON *schema_tools(void);
/* Validate value against schema: type, required, enum, const, minimum,
 * maximum, minLength, maxLength, minItems, maxItems, items, properties,
 * additionalProperties:false, format "uri" for http(s). 0 when valid; else
 * -1 with a message like "arguments.wait_seconds: must be <= 900". */
int schema_validate(const cJSON *schema, const cJSON *value, const char *where,
                    char *err, size_t n);
/* Tool arguments as the tool gets them: a copy of args (NULL or JSON null
 * means {}) without the nulls given for optional properties ("not given")
 * and without the arguments hosts add on their own (Gemini CLI's
 * wait_for_previous), validated against the input schema. NULL when
 * invalid, with the message in err ("arguments.x: ..."); caller frees. */
cJSON *schema_args(const cJSON *input_schema, const cJSON *args, char *err,
                   size_t n);

#endif
