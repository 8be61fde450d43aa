/* frontmatter.c - the YAML frontmatter of SKILL.md, parsed by libyaml.
 *
 * The frontmatter is the text between a first line "---" and the next line
 * that is exactly "---" at column 0 (an indented "---" is content). It is
 * validated here (UTF-8, no NUL or control bytes, at most 1 MiB), line ends
 * are normalised to LF, and libyaml (the standard, fuzzed YAML parser)
 * turns it into events from which a cJSON object is built.
 *
 * Typing: scalars in block context stay strings (so `version: 1.0` is the
 * string "1.0", which is what an attribution header wants, and block
 * scalars are text); an empty plain value is null. Plain scalars inside
 * flow collections are resolved like YAML's core schema / JSON (null,
 * true, false, numbers), since those collections are JSON values.
 * Anchors, aliases and tags are refused (an alias could expand without
 * bound), as are keys that are not scalars. JSON's surrogate-pair escapes
 * ("\ud83c\udfac", as json.dumps writes emoji) are accepted in
 * double-quoted scalars although YAML alone refuses them.
 *
 * Bounds keep hostile input cheap: 1 MiB of frontmatter, 64 levels of
 * nesting, 4096 entries per collection. Every error names its line in the
 * file. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "nemo/json.h"
#include "nemo/buf.h"
#include "nemo/frontmatter.h"

#define FM_MAX_BYTES (1024 * 1024)
#define FM_MAX_DEPTH 64
#define FM_MAX_ENTRIES 4096
#define FM_MAX_PAIR_FIXES 256   /* quoted scalars with surrogate pairs */

typedef struct fm_frame {
    cJSON *node;        /* the object or array being filled */
    char *key;          /* a mapping's key waiting for its value (owned) */
    int flow;           /* inside a flow collection: plain scalars typed */
    int count;
    size_t line;        /* where it starts (0 = the first frontmatter line) */
} fm_frame;

typedef struct fm_parser {
    const char *s;      /* normalised frontmatter: LF only */
    size_t len;
    int first_line;     /* line number (in the file) of s[0] */
    fm_frame stack[FM_MAX_DEPTH + 1];
    int depth;          /* frames in use */
    cJSON *root;
    int done;           /* the document ended */
    int failed;
    char *err;
    size_t errlen;
} fm_parser;

static int fm_is_ws(char c) { return c == ' ' || c == '\t'; }
static int fm_is_digit(char c) { return c >= '0' && c <= '9'; }

/* Record the first error only: later ones are consequences of it. */
__attribute__((format(printf, 3, 4)))
static void fm_fail(fm_parser *p, size_t line, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (p->failed)
        return;
    p->failed = 1;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->err && p->errlen)
        snprintf(p->err, p->errlen, "line %d: %s",
                 p->first_line + (int)line, msg);
}

/* ---- building the value ---------------------------------------------- */

/* Duplicate keys: the last one wins, as in most YAML loaders. */
static int fm_put(fm_parser *p, cJSON *obj, const char *key, cJSON *val,
                  int *count, size_t line)
{
    if (++*count > FM_MAX_ENTRIES) {
        cJSON_Delete(val);
        fm_fail(p, line, "more than %d entries in one mapping",
                FM_MAX_ENTRIES);
        return -1;
    }
    if (cJSON_GetObjectItemCaseSensitive(obj, key)) {
        if (!cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val))
            goto oom;
        return 0;
    }
    if (!cJSON_AddItemToObject(obj, key, val))
        goto oom;
    return 0;
oom:
    cJSON_Delete(val);
    fm_fail(p, line, "out of memory");
    return -1;
}

static int fm_push(fm_parser *p, cJSON *arr, cJSON *val, int *count,
                   size_t line)
{
    if (++*count > FM_MAX_ENTRIES) {
        cJSON_Delete(val);
        fm_fail(p, line, "more than %d entries in one sequence",
                FM_MAX_ENTRIES);
        return -1;
    }
    if (!cJSON_AddItemToArray(arr, val)) {
        cJSON_Delete(val);
        fm_fail(p, line, "out of memory");
        return -1;
    }
    return 0;
}

/* YAML 1.2 core schema for plain flow scalars: null, booleans, numbers. */
static cJSON *fm_resolve_plain(const char *s)
{
    static const char *nulls[] = { "null", "Null", "NULL", "~" };
    static const char *trues[] = { "true", "True", "TRUE" };
    static const char *falses[] = { "false", "False", "FALSE" };
    const char *q = s;
    int digits = 0;
    size_t i;

    for (i = 0; i < 4; i++)
        if (strcmp(s, nulls[i]) == 0)
            return cJSON_CreateNull();
    for (i = 0; i < 3; i++) {
        if (strcmp(s, trues[i]) == 0)
            return cJSON_CreateTrue();
        if (strcmp(s, falses[i]) == 0)
            return cJSON_CreateFalse();
    }
    if ((s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) && s[2]) {
        int base = s[1] == 'x' ? 16 : 8;
        char *end;
        double v = (double)strtoull(s + 2, &end, base);

        if (*end == '\0')
            return cJSON_CreateNumber(v);
        return cJSON_CreateString(s);
    }
    /* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
    if (*q == '-' || *q == '+')
        q++;
    while (fm_is_digit(*q))
        q++, digits++;
    if (*q == '.') {
        q++;
        while (fm_is_digit(*q))
            q++, digits++;
    }
    if (digits && (*q == 'e' || *q == 'E')) {
        q++;
        if (*q == '-' || *q == '+')
            q++;
        if (!fm_is_digit(*q))
            return cJSON_CreateString(s);
        while (fm_is_digit(*q))
            q++;
    }
    if (digits && *q == '\0') {
        double v = strtod(s, NULL);

        if (v - v == 0) /* finite: JSON has no inf or nan */
            return cJSON_CreateNumber(v);
    }
    return cJSON_CreateString(s);
}

/* Attach val (owned) where the current frame expects a value. */
static int fm_attach(fm_parser *p, cJSON *val, size_t line)
{
    fm_frame *f = &p->stack[p->depth - 1];
    int rc;

    if (cJSON_IsArray(f->node))
        return fm_push(p, f->node, val, &f->count, line);
    rc = fm_put(p, f->node, f->key, val, &f->count, line);
    free(f->key);
    f->key = NULL;
    return rc;
}

/* A tag or an anchor on any node is refused, with what it was. */
static int fm_check_props(fm_parser *p, const yaml_char_t *anchor,
                          const yaml_char_t *tag, size_t line)
{
    if (anchor) {
        fm_fail(p, line, "anchors (&%.40s) are not supported",
                (const char *)anchor);
        return -1;
    }
    if (tag) {
        fm_fail(p, line, "tags (%.40s) are not supported",
                (const char *)tag);
        return -1;
    }
    return 0;
}

static int fm_on_scalar(fm_parser *p, const yaml_event_t *e)
{
    const char *v = (const char *)e->data.scalar.value;
    size_t n = e->data.scalar.length, line = e->start_mark.line;
    int plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    fm_frame *f;
    cJSON *val;

    if (fm_check_props(p, e->data.scalar.anchor, e->data.scalar.tag,
                       line) < 0)
        return -1;
    if (memchr(v, '\0', n)) {
        fm_fail(p, line, "NUL character in a string");
        return -1;
    }
    if (p->depth == 0) {
        fm_fail(p, line, "the frontmatter must be a mapping of "
                         "'key: value' lines");
        return -1;
    }
    f = &p->stack[p->depth - 1];
    if (cJSON_IsObject(f->node) && !f->key) {
        if (!(f->key = strdup(v))) {
            fm_fail(p, line, "out of memory");
            return -1;
        }
        return 0;
    }
    if (plain && n == 0)
        val = cJSON_CreateNull();
    else if (plain && f->flow)
        val = fm_resolve_plain(v);
    else
        val = cJSON_CreateString(v);
    if (!val) {
        fm_fail(p, line, "out of memory");
        return -1;
    }
    return fm_attach(p, val, line);
}

static int fm_on_start(fm_parser *p, const yaml_event_t *e)
{
    int map = e->type == YAML_MAPPING_START_EVENT;
    size_t line = e->start_mark.line;
    int flow = map ? e->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
                   : e->data.sequence_start.style ==
                         YAML_FLOW_SEQUENCE_STYLE;
    fm_frame *f;
    cJSON *node;

    if (fm_check_props(p, map ? e->data.mapping_start.anchor
                              : e->data.sequence_start.anchor,
                       map ? e->data.mapping_start.tag
                           : e->data.sequence_start.tag, line) < 0)
        return -1;
    if (p->depth == 0 && (!map || p->root)) {
        fm_fail(p, line, "the frontmatter must be a mapping of "
                         "'key: value' lines");
        return -1;
    }
    if (p->depth > 0 && cJSON_IsObject(p->stack[p->depth - 1].node) &&
        !p->stack[p->depth - 1].key) {
        fm_fail(p, line, "a key must be a string, not a %s",
                map ? "mapping" : "sequence");
        return -1;
    }
    if (p->depth >= FM_MAX_DEPTH) {
        fm_fail(p, line, "nesting deeper than %d levels", FM_MAX_DEPTH);
        return -1;
    }
    node = map ? cJSON_CreateObject() : cJSON_CreateArray();
    if (!node) {
        fm_fail(p, line, "out of memory");
        return -1;
    }
    if (p->depth == 0)
        p->root = node;
    else if (fm_attach(p, node, line) < 0)
        return -1;
    f = &p->stack[p->depth++];
    f->node = node;
    f->key = NULL;
    f->count = 0;
    f->line = line;
    f->flow = flow || (p->depth > 1 && p->stack[p->depth - 2].flow);
    return 0;
}

static int fm_on_event(fm_parser *p, const yaml_event_t *e)
{
    switch (e->type) {
    case YAML_SCALAR_EVENT:
        return fm_on_scalar(p, e);
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
        return fm_on_start(p, e);
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
        p->depth--;
        free(p->stack[p->depth].key);
        p->stack[p->depth].key = NULL;
        return 0;
    case YAML_ALIAS_EVENT:
        fm_fail(p, e->start_mark.line, "aliases (*%.40s) are not supported",
                (const char *)e->data.alias.anchor);
        return -1;
    case YAML_DOCUMENT_START_EVENT:
        if (p->done) {
            fm_fail(p, e->start_mark.line, "more than one YAML document "
                                           "in the frontmatter");
            return -1;
        }
        return 0;
    case YAML_DOCUMENT_END_EVENT:
        p->done = 1;
        return 0;
    default:
        return 0;
    }
}

/* ---- libyaml's errors ----------------------------------------------- */

/* Byte offset of (line, column in characters) in the normalised text. */
static size_t fm_offset_of(const fm_parser *p, size_t line, size_t col)
{
    size_t i = 0;

    while (line > 0 && i < p->len)
        if (p->s[i++] == '\n')
            line--;
    while (col > 0 && i < p->len && p->s[i] != '\n') {
        i++;
        while (i < p->len && ((unsigned char)p->s[i] & 0xC0) == 0x80)
            i++;
        col--;
    }
    return i;
}

static int fm_hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        char c = s[i];

        v <<= 4;
        if (fm_is_digit(c))
            v |= (unsigned)(c - '0');
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            v |= (unsigned)((c | 0x20) - 'a' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* libyaml stopped on a \u escape that is a UTF-16 surrogate, inside the
 * double-quoted scalar whose opening quote is at m. Rewrite every JSON
 * surrogate pair ("\uD83C\uDFAC") of that scalar as the one \UXXXXXXXX
 * escape YAML knows, walking its escapes as YAML does; -1 when there was
 * no pair to rewrite (a lone surrogate stays an error). */
static int fm_fix_pairs(fm_parser *p, char *text, size_t *len,
                        const yaml_mark_t *m)
{
    size_t i = fm_offset_of(p, m->line, m->column), out;
    int fixed = 0;

    if (i >= *len || text[i] != '"')
        return -1;
    for (out = ++i; i < *len && text[i] != '"';) {
        unsigned hi, lo;

        if (text[i] != '\\') {
            text[out++] = text[i++];
            continue;
        }
        if (i + 12 <= *len && text[i + 1] == 'u' && text[i + 6] == '\\' &&
            text[i + 7] == 'u' && fm_hex4(text + i + 2, &hi) == 0 &&
            fm_hex4(text + i + 8, &lo) == 0 && hi >= 0xD800 &&
            hi <= 0xDBFF && lo >= 0xDC00 && lo <= 0xDFFF) {
            char esc[11];

            snprintf(esc, sizeof esc, "\\U%08X",
                     0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
            memcpy(text + out, esc, 10);
            out += 10;
            i += 12;
            fixed++;
            continue;
        }
        text[out++] = text[i++];    /* the backslash and what it escapes */
        if (i < *len)
            text[out++] = text[i++];
    }
    memmove(text + out, text + i, *len - i);
    *len -= i - out;
    text[*len] = '\0';
    return fixed ? 0 : -1;
}

static size_t fm_count_lines(const fm_parser *p)
{
    size_t i, n = 0;

    for (i = 0; i < p->len; i++)
        n += p->s[i] == '\n';
    return n;
}

static void fm_yaml_error(fm_parser *p, const yaml_parser_t *yp)
{
    const yaml_mark_t *m = &yp->problem_mark;
    const char *problem = yp->problem ? yp->problem : "invalid YAML";
    size_t line = m->line;

    if (yp->error == YAML_MEMORY_ERROR) {
        fm_fail(p, 0, "out of memory");
        return;
    }
    if (yp->error == YAML_READER_ERROR) {
        size_t i;

        line = 0;
        for (i = 0; i < yp->problem_offset && i < p->len; i++)
            line += p->s[i] == '\n';
        fm_fail(p, line, "%s", problem);
        return;
    }
    /* An error at the very end (an unclosed quote or bracket) is about
     * where the unclosed thing began: the innermost open flow collection,
     * else libyaml's context (e.g. the start of a quoted scalar). */
    if (m->line >= fm_count_lines(p)) {
        if (p->depth > 0 && p->stack[p->depth - 1].flow)
            line = p->stack[p->depth - 1].line;
        else if (yp->context)
            line = yp->context_mark.line;
    }
    if (yp->context)
        fm_fail(p, line, "%s (%s)", problem, yp->context);
    else
        fm_fail(p, line, "%s", problem);
}

static int fm_is_pair_error(const yaml_parser_t *yp)
{
    return yp->error == YAML_SCANNER_ERROR && yp->problem &&
           strstr(yp->problem, "invalid Unicode character escape");
}

/* One libyaml pass over text. 1 when libyaml stopped on a surrogate it
 * refuses, *m at the quoted scalar holding it; 0 done (p->root or
 * p->failed). */
static int fm_run(fm_parser *p, yaml_mark_t *m)
{
    yaml_parser_t yp;
    yaml_event_t e;
    int retry = 0;

    if (!yaml_parser_initialize(&yp)) {
        fm_fail(p, 0, "out of memory");
        return 0;
    }
    yaml_parser_set_input_string(&yp, (const unsigned char *)p->s, p->len);
    yaml_parser_set_encoding(&yp, YAML_UTF8_ENCODING);
    for (;;) {
        int type;

        if (!yaml_parser_parse(&yp, &e)) {
            if (fm_is_pair_error(&yp)) {
                *m = yp.context_mark;   /* the opening quote */
                retry = 1;
            } else {
                fm_yaml_error(p, &yp);
            }
            break;
        }
        type = e.type;
        if (fm_on_event(p, &e) < 0) {
            yaml_event_delete(&e);
            break;
        }
        yaml_event_delete(&e);
        if (type == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&yp);
    return retry;
}

static void fm_reset(fm_parser *p)
{
    while (p->depth > 0)
        free(p->stack[--p->depth].key);
    cJSON_Delete(p->root);
    p->root = NULL;
    p->done = 0;
}

/* Parse the normalised text (owned, NUL-terminated, may be rewritten). */
static cJSON *fm_root(fm_parser *p, char *text, size_t len)
{
    int fixes = 0;
    yaml_mark_t m;

    p->s = text;
    p->len = len;
    while (fm_run(p, &m)) {
        fm_reset(p);
        if (++fixes > FM_MAX_PAIR_FIXES || fm_fix_pairs(p, text, &len, &m)) {
            fm_fail(p, m.line, "invalid Unicode escape (a lone UTF-16 "
                               "surrogate)");
            break;
        }
        p->len = len;
    }
    if (p->failed) {
        fm_reset(p);
        return NULL;
    }
    if (!p->root)   /* only comments, or nothing */
        p->root = cJSON_CreateObject();
    return p->root;
}

/* ---- locating and checking the frontmatter ---------------------------- */

/* Line at i (of text) is "---" plus optional trailing white space; *next
 * gets the start of the following line. */
static int fm_is_delim(const char *t, size_t len, size_t i, size_t *next)
{
    if (len - i < 3 || memcmp(t + i, "---", 3) != 0)
        return 0;
    for (i += 3; i < len && fm_is_ws(t[i]); i++)
        ;
    if (i < len && t[i] != '\n' && t[i] != '\r')
        return 0;
    if (i < len && t[i] == '\r')
        i++;
    if (i < len && t[i] == '\n' && t[i - 1] != '\n')
        i++;
    *next = i;
    return 1;
}

/* Length of the valid UTF-8 sequence at t (1-4), or 0. */
static size_t fm_utf8_len(const unsigned char *t, size_t avail)
{
    unsigned long cp;
    size_t n, i;

    if (t[0] < 0x80)
        return 1;
    if (t[0] >= 0xC2 && t[0] <= 0xDF)
        n = 2, cp = t[0] & 0x1F;
    else if (t[0] >= 0xE0 && t[0] <= 0xEF)
        n = 3, cp = t[0] & 0x0F;
    else if (t[0] >= 0xF0 && t[0] <= 0xF4)
        n = 4, cp = t[0] & 0x07;
    else
        return 0;
    if (avail < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((t[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (t[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* Validate text[start, end) and copy it with LF line ends. */
static char *fm_normalise(const char *text, size_t start, size_t end,
                          int first_line, char *err, size_t errlen,
                          size_t *outlen)
{
    const unsigned char *t = (const unsigned char *)text;
    nemo_buf b = NEMO_BUF_INIT;
    int line = first_line;
    size_t i = start;

    buf_reserve(&b, end - start + 2);
    while (i < end) {
        unsigned char c = t[i];
        size_t n;

        if (c == '\r' || c == '\n') {
            buf_putc(&b, '\n');
            i += (c == '\r' && i + 1 < end && t[i + 1] == '\n') ? 2 : 1;
            line++;
            continue;
        }
        if (c < 0x20 && c != '\t') {
            snprintf(err, errlen, "line %d: %s", line,
                     c ? "control character in the frontmatter (binary "
                         "data?)" : "NUL byte in the frontmatter (binary "
                                    "data?)");
            goto fail;
        }
        if (c == 0x7f) {
            snprintf(err, errlen, "line %d: control character (DEL) in the "
                                  "frontmatter", line);
            goto fail;
        }
        n = fm_utf8_len(t + i, end - i);
        if (!n) {
            snprintf(err, errlen, "line %d: invalid UTF-8 in the "
                                  "frontmatter", line);
            goto fail;
        }
        buf_append(&b, text + i, n);
        i += n;
    }
    if (b.len == 0 || b.data[b.len - 1] != '\n')
        buf_putc(&b, '\n');
    *outlen = b.len;
    return buf_detach(&b);
fail:
    buf_free(&b);
    return NULL;
}

cJSON *fm_parse(const char *text, size_t len, char *err, size_t errlen)
{
    char dummy[8];
    fm_parser p;
    size_t i = 0, body, close = 0, next = 0, flen;
    int found = 0;
    char *norm;
    cJSON *root;

    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (!text) {
        snprintf(err, errlen, "no text");
        return NULL;
    }
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    if (!fm_is_delim(text, len, i, &body)) {
        snprintf(err, errlen, "line 1: no frontmatter (the file must start "
                              "with a '---' line)");
        return NULL;
    }
    /* Find the closing "---" at column 0, within the size bound. */
    for (i = body; i < len && i - body <= FM_MAX_BYTES;) {
        const char *nl;

        if (fm_is_delim(text, len, i, &next)) {
            close = i;
            found = 1;
            break;
        }
        nl = memchr(text + i, '\n', len - i);
        {
            const char *cr = memchr(text + i, '\r',
                                    (nl ? (size_t)(nl - text) : len) - i);
            if (cr)
                nl = (cr + 1 < text + len && cr[1] == '\n') ? cr + 1 : cr;
        }
        if (!nl)
            break;
        i = (size_t)(nl - text) + 1;
    }
    if (!found) {
        if (i < len && i - body > FM_MAX_BYTES)
            snprintf(err, errlen, "line 1: frontmatter larger than %d bytes "
                                  "(no closing '---' within it)",
                     FM_MAX_BYTES);
        else
            snprintf(err, errlen, "line 1: unterminated frontmatter (no "
                                  "closing '---' line)");
        return NULL;
    }
    if (close - body > FM_MAX_BYTES) {
        snprintf(err, errlen, "line 1: frontmatter larger than %d bytes",
                 FM_MAX_BYTES);
        return NULL;
    }
    (void)next;
    norm = fm_normalise(text, body, close, 2, err, errlen, &flen);
    if (!norm)
        return NULL;
    memset(&p, 0, sizeof p);
    p.first_line = 2;
    p.err = err;
    p.errlen = errlen;
    root = fm_root(&p, norm, flen);
    if (!root && !p.failed)
        snprintf(err, errlen, "out of memory");
    free(norm);
    return root;
}

const char *fm_get_string(const cJSON *fm, const char *key)
{
    return json_str(fm, key);
}
