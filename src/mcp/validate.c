/* validate.c - the JSON Schema subset the tool input schemas use, with
 * messages a model can act on ("arguments.wait_seconds: must be <= 900").
 *
 * Supported: boolean schemas, type (incl. integer vs number and type
 * lists), enum, const, minimum, maximum, exclusiveMinimum,
 * exclusiveMaximum, multipleOf, minLength, maxLength (code points),
 * format "uri" (absolute http/https), minItems, maxItems, items (schema or
 * tuple), uniqueItems, properties, required, additionalProperties (false
 * or a schema), minProperties, maxProperties, allOf, anyOf, oneOf, not,
 * and local $ref ("#/$defs/x", "#/definitions/x"). Unknown keywords are
 * annotations and pass.
 *
 * schema_args() is the door for tool arguments: before validating it drops
 * what hosts add or send for "not given" (see host_args), so a tool never
 * sees them and a misspelt argument still gets the strict message. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "nemo/schema.h"

#define V_MAX_DEPTH 64

typedef struct vctx {
    const cJSON *root;
    char *err;
    size_t n;
    int depth;
} vctx;

static int v_check(vctx *c, const cJSON *s, const cJSON *v, const char *path);

static int v_fail(vctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int v_fail(vctx *c, const char *path, const char *fmt, ...)
{
    size_t k;
    va_list ap;

    if (!c->err || !c->n)
        return -1;
    k = (size_t)snprintf(c->err, c->n, "%s: ", path);
    if (k < c->n) {
        va_start(ap, fmt);
        vsnprintf(c->err + k, c->n - k, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const cJSON *kw(const cJSON *s, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(s, name);
}

/* Without libm: an integral double below 2^63 survives a round trip
 * through long long. */
static int integral(double d)
{
    return isfinite(d) && d > -9.2e18 && d < 9.2e18 &&
           d == (double)(long long)d;
}

static int is_integer(const cJSON *v)
{
    return cJSON_IsNumber(v) && integral(v->valuedouble);
}

static const char *type_of(const cJSON *v)
{
    if (cJSON_IsObject(v))
        return "object";
    if (cJSON_IsArray(v))
        return "array";
    if (cJSON_IsString(v))
        return "string";
    if (cJSON_IsBool(v))
        return "boolean";
    if (cJSON_IsNull(v))
        return "null";
    return is_integer(v) ? "integer" : "number";
}

static int type_is(const cJSON *v, const char *t)
{
    if (strcmp(t, "number") == 0)
        return cJSON_IsNumber(v);
    if (strcmp(t, "integer") == 0)
        return is_integer(v);
    return strcmp(type_of(v), t) == 0;
}

/* Short rendering of a value for messages. */
static void brief(const cJSON *v, char *out, size_t n)
{
    char *p = cJSON_PrintUnformatted(v);

    if (!p) {
        snprintf(out, n, "?");
        return;
    }
    if (strlen(p) > 40)
        snprintf(out, n, "%.37s...", p);
    else
        snprintf(out, n, "%s", p);
    cJSON_free(p);
}

static void path_key(char *out, size_t n, const char *path, const char *key)
{
    snprintf(out, n, "%s.%s", path, key);
}

static void path_index(char *out, size_t n, const char *path, int i)
{
    snprintf(out, n, "%s[%d]", path, i);
}

static size_t utf8_len(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static int check_type(vctx *c, const cJSON *s, const cJSON *v,
                      const char *path)
{
    const cJSON *t = kw(s, "type"), *it;
    char want[128] = "", got[64];

    if (!t)
        return 0;
    brief(v, got, sizeof got);
    if (cJSON_IsNull(v))
        got[0] = '\0';   /* "got null", not "got null null" */
    if (cJSON_IsString(t)) {
        if (type_is(v, t->valuestring))
            return 0;
        return v_fail(c, path, "must be %s %s, got %s%s%s",
                      strchr("aeiou", t->valuestring[0]) ? "an" : "a",
                      t->valuestring, type_of(v), got[0] ? " " : "", got);
    }
    cJSON_ArrayForEach(it, t) {
        if (cJSON_IsString(it) && type_is(v, it->valuestring))
            return 0;
        if (cJSON_IsString(it)) {
            size_t k = strlen(want);
            snprintf(want + k, sizeof want - k, "%s%s", k ? " or " : "",
                     it->valuestring);
        }
    }
    return v_fail(c, path, "must be %s, got %s%s%s", want, type_of(v),
                  got[0] ? " " : "", got);
}

static int check_enum(vctx *c, const cJSON *s, const cJSON *v,
                      const char *path)
{
    const cJSON *e = kw(s, "enum"), *it, *k = kw(s, "const");
    char list[256] = "", one[64];

    if (k && !cJSON_Compare(k, v, 1)) {
        brief(k, one, sizeof one);
        return v_fail(c, path, "must be %s", one);
    }
    if (!cJSON_IsArray(e))
        return 0;
    cJSON_ArrayForEach(it, e) {
        size_t n = strlen(list);

        if (cJSON_Compare(it, v, 1))
            return 0;
        brief(it, one, sizeof one);
        snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", one);
    }
    brief(v, one, sizeof one);
    return v_fail(c, path, "must be one of %s (got %s)", list, one);
}

static int check_number(vctx *c, const cJSON *s, const cJSON *v,
                        const char *path)
{
    const cJSON *k;
    double x = v->valuedouble;

    if (cJSON_IsNumber(k = kw(s, "minimum")) && x < k->valuedouble)
        return v_fail(c, path, "must be >= %g", k->valuedouble);
    if (cJSON_IsNumber(k = kw(s, "maximum")) && x > k->valuedouble)
        return v_fail(c, path, "must be <= %g", k->valuedouble);
    if (cJSON_IsNumber(k = kw(s, "exclusiveMinimum")) && x <= k->valuedouble)
        return v_fail(c, path, "must be > %g", k->valuedouble);
    if (cJSON_IsNumber(k = kw(s, "exclusiveMaximum")) && x >= k->valuedouble)
        return v_fail(c, path, "must be < %g", k->valuedouble);
    if (cJSON_IsNumber(k = kw(s, "multipleOf")) && k->valuedouble > 0) {
        double q = x / k->valuedouble, r;

        if (q < -9.2e18 || q > 9.2e18)
            return v_fail(c, path, "must be a multiple of %g",
                          k->valuedouble);
        r = q - (double)(q >= 0 ? (long long)(q + 0.5)
                                : -(long long)(-q + 0.5));
        if (r > 1e-9 || r < -1e-9)
            return v_fail(c, path, "must be a multiple of %g",
                          k->valuedouble);
    }
    return 0;
}

/* An absolute http(s) URL with a host: what the backend can fetch. */
static int uri_ok(const char *s)
{
    const char *rest;

    if (strncasecmp(s, "https://", 8) == 0)
        rest = s + 8;
    else if (strncasecmp(s, "http://", 7) == 0)
        rest = s + 7;
    else
        return 0;
    if (!*rest || *rest == '/' || *rest == '?' || *rest == '#')
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == '"' || *s == '<' || *s == '>' ||
            *s == '\\' || *s == '^' || *s == '`' || *s == '{' || *s == '|' ||
            *s == '}')
            return 0;
    return 1;
}

static int check_string(vctx *c, const cJSON *s, const cJSON *v,
                        const char *path)
{
    const cJSON *k;
    size_t len = utf8_len(v->valuestring);

    if (cJSON_IsNumber(k = kw(s, "minLength")) && len < k->valuedouble) {
        if (k->valuedouble == 1)
            return v_fail(c, path, "must not be empty");
        return v_fail(c, path, "must be at least %g characters long",
                      k->valuedouble);
    }
    if (cJSON_IsNumber(k = kw(s, "maxLength")) && len > k->valuedouble)
        return v_fail(c, path, "must be at most %g characters long (got %zu)",
                      k->valuedouble, len);
    k = kw(s, "format");
    if (cJSON_IsString(k) && strcmp(k->valuestring, "uri") == 0 &&
        !uri_ok(v->valuestring))
        return v_fail(c, path, "must be an absolute http:// or https:// URL");
    return 0;
}

static int check_array(vctx *c, const cJSON *s, const cJSON *v,
                       const char *path)
{
    const cJSON *k, *it, *items = kw(s, "items");
    int n = cJSON_GetArraySize(v), i = 0;
    char sub[512];

    if (cJSON_IsNumber(k = kw(s, "minItems")) && n < k->valuedouble)
        return v_fail(c, path, "must have at least %g item%s", k->valuedouble,
                      k->valuedouble == 1 ? "" : "s");
    if (cJSON_IsNumber(k = kw(s, "maxItems")) && n > k->valuedouble)
        return v_fail(c, path, "must have at most %g items (got %d)",
                      k->valuedouble, n);
    cJSON_ArrayForEach(it, v) {
        const cJSON *is = cJSON_IsArray(items) ? cJSON_GetArrayItem(items, i)
                                               : items;

        path_index(sub, sizeof sub, path, i);
        if (is && v_check(c, is, it, sub) != 0)
            return -1;
        if (cJSON_IsTrue(kw(s, "uniqueItems"))) {
            const cJSON *prev;
            int j = 0;

            cJSON_ArrayForEach(prev, v) {
                if (j++ >= i)
                    break;
                if (cJSON_Compare(prev, it, 1))
                    return v_fail(c, sub, "duplicates item %d", j - 1);
            }
        }
        i++;
    }
    return 0;
}

static void allowed_list(const cJSON *props, char *out, size_t n)
{
    const cJSON *p;

    out[0] = '\0';
    cJSON_ArrayForEach(p, props) {
        size_t k = strlen(out);
        snprintf(out + k, n - k, "%s%s", k ? ", " : "", p->string);
    }
}

static int check_object(vctx *c, const cJSON *s, const cJSON *v,
                        const char *path)
{
    const cJSON *props = kw(s, "properties"), *req = kw(s, "required");
    const cJSON *add = kw(s, "additionalProperties"), *k, *it;
    int n = cJSON_GetArraySize(v);
    char sub[512], list[400];

    cJSON_ArrayForEach(it, req) {
        if (cJSON_IsString(it) &&
            !cJSON_GetObjectItemCaseSensitive(v, it->valuestring))
            return v_fail(c, path, "missing required property \"%s\"",
                          it->valuestring);
    }
    if (cJSON_IsNumber(k = kw(s, "minProperties")) && n < k->valuedouble)
        return v_fail(c, path, "must have at least %g properties",
                      k->valuedouble);
    if (cJSON_IsNumber(k = kw(s, "maxProperties")) && n > k->valuedouble)
        return v_fail(c, path, "must have at most %g properties",
                      k->valuedouble);
    cJSON_ArrayForEach(it, v) {
        const cJSON *ps = cJSON_GetObjectItemCaseSensitive(props, it->string);

        path_key(sub, sizeof sub, path, it->string);
        if (ps) {
            if (v_check(c, ps, it, sub) != 0)
                return -1;
        } else if (cJSON_IsFalse(add)) {
            allowed_list(props, list, sizeof list);
            return v_fail(c, path, "unknown property \"%s\" (allowed: %s)",
                          it->string, list[0] ? list : "none");
        } else if (cJSON_IsObject(add) && v_check(c, add, it, sub) != 0) {
            return -1;
        }
    }
    return 0;
}

/* anyOf (one = 0) or oneOf (one = 1). */
static int check_alternatives(vctx *c, const cJSON *k, int one,
                              const cJSON *v, const char *path)
{
    const cJSON *it;
    char first[256] = "";
    int matched = 0, total = 0;

    if (!cJSON_IsArray(k))
        return 0;
    cJSON_ArrayForEach(it, k) {
        total++;
        if (v_check(c, it, v, path) == 0)
            matched++;
        else if (!first[0] && c->err)
            snprintf(first, sizeof first, "%s", c->err);
    }
    if (c->err && c->n)
        c->err[0] = '\0';
    if (!matched)
        return v_fail(c, path, "matches none of the %d allowed forms "
                      "(first: %s)", total, first[0] ? first : "?");
    if (one && matched > 1)
        return v_fail(c, path, "matches %d of the allowed forms; it must "
                      "match exactly one", matched);
    return 0;
}

static int check_combinators(vctx *c, const cJSON *s, const cJSON *v,
                             const char *path)
{
    const cJSON *k, *it;

    cJSON_ArrayForEach(it, kw(s, "allOf"))
        if (v_check(c, it, v, path) != 0)
            return -1;
    if (check_alternatives(c, kw(s, "anyOf"), 0, v, path) != 0 ||
        check_alternatives(c, kw(s, "oneOf"), 1, v, path) != 0)
        return -1;
    if ((k = kw(s, "not")) != NULL) {
        if (v_check(c, k, v, path) == 0)
            return v_fail(c, path, "is not allowed here");
        if (c->err && c->n)
            c->err[0] = '\0';
    }
    return 0;
}

/* "#/$defs/name" (or any local JSON pointer without escapes). */
static const cJSON *resolve_ref(vctx *c, const char *ref)
{
    const cJSON *at = c->root;
    char part[128];

    if (strncmp(ref, "#", 1) != 0)
        return NULL;
    ref++;
    while (*ref == '/') {
        size_t n = strcspn(ref + 1, "/");

        if (n >= sizeof part)
            return NULL;
        memcpy(part, ref + 1, n);
        part[n] = '\0';
        at = cJSON_GetObjectItemCaseSensitive(at, part);
        if (!at)
            return NULL;
        ref += n + 1;
    }
    return *ref ? NULL : at;
}

static int v_check(vctx *c, const cJSON *s, const cJSON *v, const char *path)
{
    const cJSON *ref;
    int rc = 0;

    if (cJSON_IsTrue(s))
        return 0;
    if (cJSON_IsFalse(s))
        return v_fail(c, path, "is not allowed");
    if (!cJSON_IsObject(s))
        return 0;
    if (++c->depth > V_MAX_DEPTH) {
        c->depth--;
        return v_fail(c, path, "is nested too deeply");
    }
    ref = kw(s, "$ref");
    if (cJSON_IsString(ref)) {
        const cJSON *target = resolve_ref(c, ref->valuestring);

        rc = target ? v_check(c, target, v, path)
                    : v_fail(c, path, "schema reference %s cannot be resolved",
                             ref->valuestring);
    }
    if (rc == 0)
        rc = check_type(c, s, v, path);
    if (rc == 0)
        rc = check_enum(c, s, v, path);
    if (rc == 0 && cJSON_IsNumber(v))
        rc = check_number(c, s, v, path);
    if (rc == 0 && cJSON_IsString(v))
        rc = check_string(c, s, v, path);
    if (rc == 0 && cJSON_IsArray(v))
        rc = check_array(c, s, v, path);
    if (rc == 0 && cJSON_IsObject(v))
        rc = check_object(c, s, v, path);
    if (rc == 0)
        rc = check_combinators(c, s, v, path);
    c->depth--;
    return rc;
}

int schema_validate(const cJSON *schema, const cJSON *value, const char *where,
                    char *err, size_t n)
{
    vctx c = { schema, err, n, 0 };

    if (err && n)
        err[0] = '\0';
    return v_check(&c, schema, value, where && *where ? where : "value");
}

/* Arguments some hosts add to every tool call on their own. They are not
 * advertised (a model that sees them would start sending them to every
 * host) and are ignored whatever their value, unless a tool declares a
 * property of that name itself. */
static const struct {
    const char *name;
    const char *host;
} host_args[] = {
    /* Gemini CLI: its scheduler's "run after the previous call" flag. */
    { "wait_for_previous", "Gemini CLI" },
};

static int host_arg(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof host_args / sizeof host_args[0]; i++)
        if (strcmp(name, host_args[i].name) == 0)
            return 1;
    return 0;
}

static int is_required(const cJSON *schema, const char *name)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, kw(schema, "required"))
        if (cJSON_IsString(it) && strcmp(it->valuestring, name) == 0)
            return 1;
    return 0;
}

/* Drop, from the top level only, a null given for an optional argument
 * (hosts and models send null for "not given") and the host-added
 * arguments. A declared property is never dropped for its name alone. */
static void args_clean(const cJSON *schema, cJSON *args)
{
    const cJSON *props = kw(schema, "properties");
    cJSON *it = args ? args->child : NULL, *next;

    for (; it; it = next) {
        const cJSON *ps = cJSON_GetObjectItemCaseSensitive(props, it->string);

        next = it->next;
        if ((cJSON_IsNull(it) && !is_required(schema, it->string)) ||
            (!ps && host_arg(it->string)))
            cJSON_Delete(cJSON_DetachItemViaPointer(args, it));
    }
}

cJSON *schema_args(const cJSON *schema, const cJSON *args, char *err,
                   size_t n)
{
    cJSON *clean;

    if (err && n)
        err[0] = '\0';
    if (!args || cJSON_IsNull(args))
        clean = cJSON_CreateObject();
    else if (!cJSON_IsObject(args)) {
        if (err && n)
            snprintf(err, n, "arguments: must be an object");
        return NULL;
    } else
        clean = cJSON_Duplicate(args, 1);
    if (!clean) {
        if (err && n)
            snprintf(err, n, "arguments: out of memory");
        return NULL;
    }
    args_clean(schema, clean);
    if (schema_validate(schema, clean, "arguments", err, n) != 0) {
        cJSON_Delete(clean);
        return NULL;
    }
    return clean;
}
