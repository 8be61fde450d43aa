/* frontmatter.c - the YAML subset that real SKILL.md files use.
 *
 * The frontmatter is the text between a first line "---" and the next line
 * that is exactly "---" at column 0 (an indented "---" is content). It is
 * validated (UTF-8, no NUL or control bytes), line ends are normalised to
 * LF, and a small recursive-descent parser builds a cJSON object:
 *
 *   block mappings and sequences by indentation (spaces only, as YAML says),
 *   plain, 'single' ('' escapes) and "double" (backslash escapes) scalars,
 *   literal | and folded > block scalars with indentation (1-9) and chomping
 *   (- strip, + keep, default clip) indicators, comments, and flow
 *   collections {..} / [..] in JSON or YAML style, possibly over many lines.
 *
 * Typing: scalars in block context stay strings (so `version: 1.0` is the
 * string "1.0", which is what an attribution header wants); an empty value
 * is null. Plain scalars inside flow collections are resolved like YAML's
 * core schema / JSON (null, true, false, numbers), since those collections
 * are JSON values. Anchors, aliases, tags and complex keys are refused.
 *
 * Bounds keep hostile input cheap: 1 MiB of frontmatter, 64 levels of
 * nesting, 4096 entries per collection. Every error names its line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemo/buf.h"
#include "nemo/frontmatter.h"

#define FM_MAX_BYTES (1024 * 1024)
#define FM_MAX_DEPTH 64
#define FM_MAX_ENTRIES 4096

enum fm_chomp { FM_CLIP, FM_STRIP, FM_KEEP };

typedef struct fm_parser {
    const char *s;      /* normalised frontmatter: LF only, ends with '\n' */
    size_t len;
    size_t pos;
    int first_line;     /* line number (in the file) of s[0] */
    int depth;
    int failed;
    char *err;
    size_t errlen;
} fm_parser;

/* ---- small helpers ---------------------------------------------------- */

static int fm_is_ws(char c) { return c == ' ' || c == '\t'; }
static int fm_is_digit(char c) { return c >= '0' && c <= '9'; }

static int fm_is_hex(char c)
{
    return fm_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int fm_hexval(char c)
{
    if (fm_is_digit(c))
        return c - '0';
    return (c | 0x20) - 'a' + 10;
}

static int fm_line_of(const fm_parser *p, size_t pos)
{
    int line = p->first_line;
    size_t i;

    for (i = 0; i < pos && i < p->len; i++)
        if (p->s[i] == '\n')
            line++;
    return line;
}

/* Record the first error only: later ones are consequences of it. */
__attribute__((format(printf, 3, 4)))
static void *fm_fail(fm_parser *p, size_t pos, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (p->failed)
        return NULL;
    p->failed = 1;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->err && p->errlen)
        snprintf(p->err, p->errlen, "line %d: %s", fm_line_of(p, pos), msg);
    return NULL;
}

static size_t fm_eol(const fm_parser *p, size_t pos)
{
    const char *nl = memchr(p->s + pos, '\n', p->len - pos);

    return nl ? (size_t)(nl - p->s) : p->len;
}

static size_t fm_line_start(const fm_parser *p, size_t pos)
{
    while (pos > 0 && p->s[pos - 1] != '\n')
        pos--;
    return pos;
}

/* Whitespace-only line, or whitespace then a comment. */
static int fm_line_is_blank(const fm_parser *p, size_t ls)
{
    size_t i = ls;

    while (i < p->len && fm_is_ws(p->s[i]))
        i++;
    return i >= p->len || p->s[i] == '\n' || p->s[i] == '#';
}

static void fm_skip_blank_lines(fm_parser *p)
{
    while (p->pos < p->len && fm_line_is_blank(p, p->pos))
        p->pos = fm_eol(p, p->pos) + 1;
    if (p->pos > p->len)
        p->pos = p->len;
}

/* Indentation (spaces) of the content line at ls; a tab among the leading
 * whitespace is an error, since YAML indentation is spaces only. */
static int fm_indent(fm_parser *p, size_t ls, int *out)
{
    size_t i = ls;

    while (i < p->len && p->s[i] == ' ')
        i++;
    if (i < p->len && p->s[i] == '\t') {
        fm_fail(p, ls, "tab character used for indentation "
                       "(YAML indents with spaces)");
        return -1;
    }
    *out = (int)(i - ls);
    return 0;
}

static void fm_skip_inline_ws(fm_parser *p)
{
    while (p->pos < p->len && fm_is_ws(p->s[p->pos]))
        p->pos++;
}

/* After a complete value: only whitespace or a comment may follow. */
static int fm_finish_line(fm_parser *p)
{
    size_t start = p->pos;

    fm_skip_inline_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '#' && p->pos > start) {
        p->pos = fm_eol(p, p->pos);
    }
    if (p->pos < p->len && p->s[p->pos] != '\n') {
        fm_fail(p, p->pos, "unexpected text after the value: '%.20s'",
                p->s + p->pos);
        return -1;
    }
    if (p->pos < p->len)
        p->pos++;
    return 0;
}

static int fm_enter(fm_parser *p)
{
    if (++p->depth > FM_MAX_DEPTH) {
        fm_fail(p, p->pos, "nesting deeper than %d levels", FM_MAX_DEPTH);
        return -1;
    }
    return 0;
}

/* Duplicate keys: the last one wins, as in most YAML loaders. */
static int fm_put(fm_parser *p, cJSON *obj, const char *key, cJSON *val,
                  int *count, size_t at)
{
    if (++*count > FM_MAX_ENTRIES) {
        cJSON_Delete(val);
        fm_fail(p, at, "more than %d entries in one mapping", FM_MAX_ENTRIES);
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
    fm_fail(p, at, "out of memory");
    return -1;
}

static int fm_push(fm_parser *p, cJSON *arr, cJSON *val, int *count,
                   size_t at)
{
    if (++*count > FM_MAX_ENTRIES) {
        cJSON_Delete(val);
        fm_fail(p, at, "more than %d entries in one sequence", FM_MAX_ENTRIES);
        return -1;
    }
    if (!cJSON_AddItemToArray(arr, val)) {
        cJSON_Delete(val);
        fm_fail(p, at, "out of memory");
        return -1;
    }
    return 0;
}

static cJSON *fm_string_from(fm_parser *p, nemo_buf *b, size_t at)
{
    cJSON *v = cJSON_CreateString(buf_str(b));

    buf_free(b);
    if (!v)
        fm_fail(p, at, "out of memory");
    return v;
}

static void fm_put_utf8(nemo_buf *b, unsigned long cp)
{
    char u[4];
    size_t n;

    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    buf_append(b, u, n);
}

/* ---- quoted scalars (block and flow context) -------------------------- */

/* A line break inside a quoted scalar folds: trailing white space of the
 * line is dropped, one break becomes a space, n empty lines become n
 * newlines, and the next line's leading white space is dropped. keep is the
 * part of b that must survive trimming (escaped characters). */
static int fm_quoted_fold(fm_parser *p, nemo_buf *b, size_t keep,
                          size_t open_at, char quote)
{
    int empty = 0;

    while (b->len > keep && fm_is_ws(b->data[b->len - 1]))
        b->data[--b->len] = '\0';
    p->pos++; /* the '\n' */
    for (;;) {
        fm_skip_inline_ws(p);
        if (p->pos >= p->len) {
            fm_fail(p, open_at, "unterminated %s-quoted string",
                    quote == '"' ? "double" : "single");
            return -1;
        }
        if (p->s[p->pos] != '\n')
            break;
        empty++;
        p->pos++;
    }
    if (empty == 0)
        buf_putc(b, ' ');
    while (empty-- > 0)
        buf_putc(b, '\n');
    return 0;
}

static int fm_hex_digits(fm_parser *p, size_t at, int n, unsigned long *out)
{
    unsigned long v = 0;
    int i;

    for (i = 0; i < n; i++) {
        if (p->pos + (size_t)i >= p->len || !fm_is_hex(p->s[p->pos + i])) {
            fm_fail(p, at, "bad escape: expected %d hex digits", n);
            return -1;
        }
        v = v * 16 + (unsigned long)fm_hexval(p->s[p->pos + i]);
    }
    p->pos += (size_t)n;
    *out = v;
    return 0;
}

/* \u and \U escapes, with JSON-style surrogate pairs. */
static int fm_unicode_escape(fm_parser *p, nemo_buf *b, size_t at, int n)
{
    unsigned long cp, lo;

    if (fm_hex_digits(p, at, n, &cp) < 0)
        return -1;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (p->pos + 6 > p->len || p->s[p->pos] != '\\' ||
            p->s[p->pos + 1] != 'u') {
            fm_fail(p, at, "bad escape: lone UTF-16 surrogate");
            return -1;
        }
        p->pos += 2;
        if (fm_hex_digits(p, at, 4, &lo) < 0)
            return -1;
        if (lo < 0xDC00 || lo > 0xDFFF) {
            fm_fail(p, at, "bad escape: lone UTF-16 surrogate");
            return -1;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        fm_fail(p, at, "bad escape: lone UTF-16 surrogate");
        return -1;
    }
    if (cp == 0 || cp > 0x10FFFF) {
        fm_fail(p, at, cp ? "bad escape: code point beyond U+10FFFF"
                          : "NUL characters are not supported");
        return -1;
    }
    fm_put_utf8(b, cp);
    return 0;
}

static const struct {
    char esc;
    const char *out;
} fm_escapes[] = {
    { 'a', "\a" }, { 'b', "\b" }, { 't', "\t" }, { '\t', "\t" },
    { 'n', "\n" }, { 'v', "\v" }, { 'f', "\f" }, { 'r', "\r" },
    { 'e', "\x1b" }, { ' ', " " }, { '"', "\"" }, { '/', "/" },
    { '\\', "\\" }, { 'N', "\xc2\x85" }, { '_', "\xc2\xa0" },
    { 'L', "\xe2\x80\xa8" }, { 'P', "\xe2\x80\xa9" },
};

static int fm_escape(fm_parser *p, nemo_buf *b)
{
    size_t at = p->pos;
    unsigned long cp;
    char c;
    size_t i;

    p->pos++; /* the backslash */
    if (p->pos >= p->len)
        return fm_fail(p, at, "unterminated double-quoted string"), -1;
    c = p->s[p->pos++];
    for (i = 0; i < sizeof fm_escapes / sizeof fm_escapes[0]; i++) {
        if (fm_escapes[i].esc == c) {
            buf_puts(b, fm_escapes[i].out);
            return 0;
        }
    }
    switch (c) {
    case 'x':
        if (fm_hex_digits(p, at, 2, &cp) < 0)
            return -1;
        if (cp == 0)
            return fm_fail(p, at, "NUL characters are not supported"), -1;
        fm_put_utf8(b, cp);
        return 0;
    case 'u':
        return fm_unicode_escape(p, b, at, 4);
    case 'U':
        return fm_unicode_escape(p, b, at, 8);
    case '\n': /* escaped line break: join without a space */
        fm_skip_inline_ws(p);
        return 0;
    case '0':
        return fm_fail(p, at, "NUL characters are not supported"), -1;
    default:
        fm_fail(p, at, "unknown escape '\\%c' in a double-quoted string",
                (c >= 0x20 && c < 0x7f) ? c : '?');
        return -1;
    }
}

/* p->pos is on the opening quote; on success it is just past the closing
 * one and *out holds the value (a cJSON string). */
static cJSON *fm_quoted(fm_parser *p)
{
    nemo_buf b = NEMO_BUF_INIT;
    size_t open_at = p->pos;
    char q = p->s[p->pos++];
    size_t keep = 0;

    buf_puts(&b, "");
    while (p->pos < p->len) {
        char c = p->s[p->pos];

        if (c == q) {
            if (q == '\'' && p->pos + 1 < p->len && p->s[p->pos + 1] == '\'') {
                buf_putc(&b, '\'');
                p->pos += 2;
                keep = b.len;
                continue;
            }
            p->pos++;
            return fm_string_from(p, &b, open_at);
        }
        if (c == '\\' && q == '"') {
            if (fm_escape(p, &b) < 0)
                goto fail;
            keep = b.len;
            continue;
        }
        if (c == '\n') {
            if (fm_quoted_fold(p, &b, keep, open_at, q) < 0)
                goto fail;
            keep = b.len;
            continue;
        }
        buf_putc(&b, c);
        if (!fm_is_ws(c))
            keep = b.len;
        p->pos++;
    }
    fm_fail(p, open_at, "unterminated %s-quoted string",
            q == '"' ? "double" : "single");
fail:
    buf_free(&b);
    return NULL;
}

/* ---- flow collections ------------------------------------------------- */

static int fm_is_flow_ind(char c)
{
    return c == ',' || c == '[' || c == ']' || c == '{' || c == '}';
}

/* White space, line breaks and comments between flow tokens. */
static void fm_flow_ws(fm_parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];

        if (fm_is_ws(c) || c == '\n') {
            p->pos++;
        } else if (c == '#' && (p->pos == 0 || fm_is_ws(p->s[p->pos - 1]) ||
                                p->s[p->pos - 1] == '\n')) {
            p->pos = fm_eol(p, p->pos);
        } else {
            break;
        }
    }
}

/* Does ':' at i act as a mapping indicator inside a flow collection? */
static int fm_flow_colon(const fm_parser *p, size_t i)
{
    char n;

    if (p->s[i] != ':')
        return 0;
    if (i + 1 >= p->len)
        return 1;
    n = p->s[i + 1];
    return fm_is_ws(n) || n == '\n' || fm_is_flow_ind(n);
}

/* A plain scalar inside a flow collection; it may continue on the next
 * lines (folded with spaces). */
static int fm_flow_plain_text(fm_parser *p, nemo_buf *b)
{
    size_t start = p->pos;

    buf_puts(b, "");
    while (p->pos < p->len) {
        char c = p->s[p->pos];

        if (fm_is_flow_ind(c) || fm_flow_colon(p, p->pos))
            break;
        if (c == '#' && p->pos > start && fm_is_ws(p->s[p->pos - 1]))
            break;
        if (c == '\n') {
            size_t save = p->pos;

            fm_flow_ws(p);
            if (p->pos >= p->len || fm_is_flow_ind(p->s[p->pos]) ||
                fm_flow_colon(p, p->pos) || p->s[p->pos] == '#') {
                p->pos = save;
                break;
            }
            while (b->len && fm_is_ws(b->data[b->len - 1]))
                b->data[--b->len] = '\0';
            buf_putc(b, ' ');
            continue;
        }
        buf_putc(b, c);
        p->pos++;
    }
    while (b->len && fm_is_ws(b->data[b->len - 1]))
        b->data[--b->len] = '\0';
    if (b->len == 0) {
        fm_fail(p, start, "expected a value");
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

static cJSON *fm_flow_value(fm_parser *p);

static cJSON *fm_flow_key(fm_parser *p)
{
    nemo_buf b = NEMO_BUF_INIT;
    size_t at = p->pos;
    char c = p->s[p->pos];

    if (c == '"' || c == '\'')
        return fm_quoted(p);
    if (c == '[' || c == '{')
        return fm_fail(p, at, "complex (collection) keys are not supported");
    if (c == '&' || c == '*' || c == '!')
        return fm_fail(p, at, "anchors, aliases and tags are not supported");
    if (fm_flow_plain_text(p, &b) < 0) {
        buf_free(&b);
        return NULL;
    }
    return fm_string_from(p, &b, at);
}

/* Around the items of a flow collection ("mapping" closed by '}', or
 * "sequence" closed by ']'). */
typedef struct fm_flow_kind {
    char close;
    const char *name;
} fm_flow_kind;

static const fm_flow_kind fm_flow_map = { '}', "mapping" };
static const fm_flow_kind fm_flow_seq = { ']', "sequence" };

/* Before an item: 1 when one follows, 0 at the closing bracket (consumed),
 * -1 on error (recorded). */
static int fm_flow_before_item(fm_parser *p, const fm_flow_kind *k,
                               size_t open_at)
{
    fm_flow_ws(p);
    if (p->pos >= p->len) {
        fm_fail(p, open_at, "unterminated flow %s (missing '%c')", k->name,
                k->close);
        return -1;
    }
    if (p->s[p->pos] == k->close) {
        p->pos++;
        return 0;
    }
    if (p->s[p->pos] == ',') {
        fm_fail(p, p->pos, "unexpected ',' in a flow %s", k->name);
        return -1;
    }
    return 1;
}

/* After an item: 1 after a ',' (more may follow), 0 at the closing
 * bracket (left for fm_flow_before_item), -1 on error (recorded). */
static int fm_flow_after_item(fm_parser *p, const fm_flow_kind *k,
                              size_t open_at)
{
    fm_flow_ws(p);
    if (p->pos >= p->len) {
        fm_fail(p, open_at, "unterminated flow %s (missing '%c')", k->name,
                k->close);
        return -1;
    }
    if (p->s[p->pos] == ',') {
        p->pos++;
        return 1;
    }
    if (p->s[p->pos] == k->close)
        return 0;
    if (k == &fm_flow_seq && p->s[p->pos] == ':')
        fm_fail(p, p->pos, "mappings inside flow sequences are not "
                           "supported");
    else
        fm_fail(p, p->pos, "expected ',' or '%c' in a flow %s", k->close,
                k->name);
    return -1;
}

static cJSON *fm_flow_mapping(fm_parser *p)
{
    size_t open_at = p->pos;
    cJSON *obj = cJSON_CreateObject();
    int count = 0, more;

    p->pos++; /* '{' */
    if (!obj || fm_enter(p) < 0)
        goto fail;
    while ((more = fm_flow_before_item(p, &fm_flow_map, open_at)) > 0) {
        cJSON *key, *val;
        size_t at = p->pos;

        key = fm_flow_key(p);
        if (!key)
            goto fail;
        fm_flow_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ':') {
            p->pos++;
            fm_flow_ws(p);
            if (p->pos < p->len &&
                (p->s[p->pos] == ',' || p->s[p->pos] == '}'))
                val = cJSON_CreateNull();
            else
                val = fm_flow_value(p);
        } else if (p->pos < p->len &&
                   (p->s[p->pos] == ',' || p->s[p->pos] == '}')) {
            val = cJSON_CreateNull();
        } else {
            cJSON_Delete(key);
            if (p->pos >= p->len)
                fm_fail(p, open_at, "unterminated flow mapping (missing "
                                    "'}')");
            else
                fm_fail(p, p->pos, "expected ':' or ',' in a flow mapping");
            goto fail;
        }
        if (!val) {
            cJSON_Delete(key);
            if (!p->failed)
                fm_fail(p, at, "out of memory");
            goto fail;
        }
        if (fm_put(p, obj, key->valuestring, val, &count, at) < 0) {
            cJSON_Delete(key);
            goto fail;
        }
        cJSON_Delete(key);
        if (fm_flow_after_item(p, &fm_flow_map, open_at) < 0)
            goto fail;
    }
    if (more < 0)
        goto fail;
    p->depth--;
    return obj;
fail:
    cJSON_Delete(obj);
    return NULL;
}

static cJSON *fm_flow_sequence(fm_parser *p)
{
    size_t open_at = p->pos;
    cJSON *arr = cJSON_CreateArray();
    int count = 0, more;

    p->pos++; /* '[' */
    if (!arr || fm_enter(p) < 0)
        goto fail;
    while ((more = fm_flow_before_item(p, &fm_flow_seq, open_at)) > 0) {
        size_t at = p->pos;
        cJSON *val = fm_flow_value(p);

        if (!val || fm_push(p, arr, val, &count, at) < 0 ||
            fm_flow_after_item(p, &fm_flow_seq, open_at) < 0)
            goto fail;
    }
    if (more < 0)
        goto fail;
    p->depth--;
    return arr;
fail:
    cJSON_Delete(arr);
    return NULL;
}

static cJSON *fm_flow_value(fm_parser *p)
{
    nemo_buf b = NEMO_BUF_INIT;
    size_t at;
    cJSON *v;
    char c;

    fm_flow_ws(p);
    if (p->pos >= p->len)
        return fm_fail(p, p->pos, "unexpected end inside a flow collection");
    at = p->pos;
    c = p->s[p->pos];
    switch (c) {
    case '{':
        return fm_flow_mapping(p);
    case '[':
        return fm_flow_sequence(p);
    case '"':
    case '\'':
        return fm_quoted(p);
    case ']':
    case '}':
    case ',':
    case ':':
        return fm_fail(p, at, "unexpected '%c' in a flow collection", c);
    case '&':
    case '*':
    case '!':
        return fm_fail(p, at, "anchors, aliases and tags are not supported");
    case '|':
    case '>':
    case '%':
    case '@':
    case '`':
        return fm_fail(p, at, "a plain value cannot start with '%c'", c);
    default:
        break;
    }
    if (fm_flow_plain_text(p, &b) < 0) {
        buf_free(&b);
        return NULL;
    }
    v = fm_resolve_plain(buf_str(&b));
    buf_free(&b);
    if (!v)
        fm_fail(p, at, "out of memory");
    return v;
}

/* ---- block scalars ---------------------------------------------------- */

/* Header after '|' or '>': indentation digit and chomping, either order. */
static int fm_block_header(fm_parser *p, int *explicit_indent,
                           enum fm_chomp *chomp)
{
    size_t at = p->pos;
    int i;

    *explicit_indent = 0;
    *chomp = FM_CLIP;
    for (i = 0; i < 2 && p->pos < p->len; i++) {
        char c = p->s[p->pos];

        if ((c == '-' || c == '+') && *chomp == FM_CLIP) {
            *chomp = c == '-' ? FM_STRIP : FM_KEEP;
        } else if (c >= '1' && c <= '9' && !*explicit_indent) {
            *explicit_indent = c - '0';
        } else {
            break;
        }
        p->pos++;
    }
    if (p->pos < p->len && !fm_is_ws(p->s[p->pos]) && p->s[p->pos] != '\n') {
        fm_fail(p, at, "bad block scalar header (expected '|' or '>' with "
                       "optional 1-9 and -/+)");
        return -1;
    }
    return fm_finish_line(p);
}

/* Auto-detected content indentation: that of the first line with
 * something other than white space on it (-1 when there is none). *blank
 * gets the most spaces on the white-space-only lines before it. */
static int fm_block_detect(const fm_parser *p, int *blank)
{
    size_t i = p->pos;

    *blank = 0;
    while (i < p->len) {
        int n = 0;

        while (i < p->len && p->s[i] == ' ')
            i++, n++;
        while (i < p->len && fm_is_ws(p->s[i]))
            i++;
        if (i >= p->len)
            break;
        if (p->s[i] != '\n')
            return n;
        if (n > *blank)
            *blank = n;
        i++;
    }
    return -1;
}

static void fm_newlines(nemo_buf *b, int n)
{
    while (n-- > 0)
        buf_putc(b, '\n');
}

/* Literal (|) and folded (>) scalars. indent is the parent's indentation;
 * content lines must be indented more. Folding follows YAML 1.2 8.1.3:
 * lines are joined with a space, an empty line becomes a newline, and the
 * breaks around more-indented lines are kept. */
static cJSON *fm_block_scalar(fm_parser *p, int indent)
{
    nemo_buf b = NEMO_BUF_INIT;
    size_t at = p->pos;
    int folded = p->s[p->pos] == '>';
    int explicit_indent, ci, empty = 0, read = 0, more = 0;
    enum fm_chomp chomp;

    p->pos++;
    if (fm_block_header(p, &explicit_indent, &chomp) < 0)
        return NULL;
    if (explicit_indent) {
        ci = indent + explicit_indent;
    } else {
        int blank;

        ci = fm_block_detect(p, &blank);
        if (ci <= indent) /* no content: every blank line is empty */
            ci = blank > indent ? blank : indent + 1;
    }
    buf_puts(&b, "");
    while (p->pos < p->len) {
        size_t ls = p->pos, eol = fm_eol(p, p->pos), i = ls;
        int sp = 0;

        while (i < eol && p->s[i] == ' ')
            i++, sp++;
        if (i == eol && sp <= ci) {
            empty++;
            p->pos = eol + 1;
            continue;
        }
        if (sp < ci) {
            size_t j = i;

            while (j < eol && fm_is_ws(p->s[j]))
                j++;
            if (j != eol)
                break; /* a less-indented line ends the scalar */
            empty++;   /* a white-space-only line counts as empty */
            p->pos = eol + 1;
            continue;
        }
        i = ls + (size_t)ci;
        if (!folded) {
            fm_newlines(&b, read ? 1 + empty : empty);
        } else if (fm_is_ws(p->s[i])) {
            more = 1;
            fm_newlines(&b, read ? 1 + empty : empty);
        } else if (more) {
            more = 0;
            fm_newlines(&b, empty + 1);
        } else if (empty == 0) {
            if (read)
                buf_putc(&b, ' ');
        } else {
            fm_newlines(&b, empty);
        }
        buf_append(&b, p->s + i, eol - i);
        read = 1;
        empty = 0;
        p->pos = eol + 1;
    }
    if (p->pos > p->len)
        p->pos = p->len;
    if (chomp == FM_KEEP)
        fm_newlines(&b, read ? 1 + empty : empty);
    else if (chomp == FM_CLIP && read)
        buf_putc(&b, '\n');
    return fm_string_from(p, &b, at);
}

/* ---- block structure -------------------------------------------------- */

static cJSON *fm_value(fm_parser *p, int indent, int in_seq);
static cJSON *fm_block_node(fm_parser *p, int indent, int in_map);

static int fm_is_seq_entry(const fm_parser *p, size_t i)
{
    return i < p->len && p->s[i] == '-' &&
           (i + 1 >= p->len || fm_is_ws(p->s[i + 1]) || p->s[i + 1] == '\n');
}

/* Does a block mapping key ("key:" followed by space or end of line)
 * start at i? */
static int fm_looks_like_key(const fm_parser *p, size_t i)
{
    size_t eol = fm_eol(p, i);
    char c = p->s[i];

    if (c == '"' || c == '\'') {
        for (i++; i < eol; i++) {
            if (c == '"' && p->s[i] == '\\') {
                i++;
                continue;
            }
            if (p->s[i] == c) {
                if (c == '\'' && i + 1 < eol && p->s[i + 1] == '\'') {
                    i++;
                    continue;
                }
                break;
            }
        }
        if (i >= eol)
            return 0;
        for (i++; i < eol && fm_is_ws(p->s[i]); i++)
            ;
        return i < eol && p->s[i] == ':';
    }
    if (strchr("[]{},#&*!|>%@`", c) || fm_is_seq_entry(p, i))
        return 0;
    for (; i < eol; i++) {
        if (p->s[i] == '#' && i > 0 && fm_is_ws(p->s[i - 1]))
            return 0;
        if (p->s[i] == ':' &&
            (i + 1 >= eol || fm_is_ws(p->s[i + 1])))
            return 1;
    }
    return 0;
}

/* Key of a block mapping entry; p->pos ends just past the ':'. */
static char *fm_key(fm_parser *p)
{
    size_t at = p->pos, eol = fm_eol(p, p->pos), end;
    char c = p->s[p->pos];
    char *key;

    if (c == '"' || c == '\'') {
        cJSON *k = fm_quoted(p);

        if (!k)
            return NULL;
        fm_skip_inline_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':') {
            cJSON_Delete(k);
            fm_fail(p, at, "expected ':' after the quoted key");
            return NULL;
        }
        p->pos++;
        key = strdup(k->valuestring);
        cJSON_Delete(k);
        if (!key)
            fm_fail(p, at, "out of memory");
        return key;
    }
    if (c == '?' && (p->pos + 1 >= eol || fm_is_ws(p->s[p->pos + 1])))
        return fm_fail(p, at, "complex keys ('? ') are not supported");
    if (!fm_looks_like_key(p, p->pos))
        return fm_fail(p, at, "expected 'key: value', found '%.30s'",
                       p->s + p->pos);
    for (end = p->pos; !(p->s[end] == ':' &&
                         (end + 1 >= eol || fm_is_ws(p->s[end + 1])));
         end++)
        ;
    p->pos = end + 1;
    while (end > at && fm_is_ws(p->s[end - 1]))
        end--;
    key = strndup(p->s + at, end - at);
    if (!key)
        fm_fail(p, at, "out of memory");
    return key;
}

/* One line's worth of a plain block scalar: up to a comment, trimmed.
 * Returns 1 when a comment ended it (which also ends the scalar). */
static int fm_plain_segment(fm_parser *p, nemo_buf *b)
{
    size_t start = p->pos, eol = fm_eol(p, p->pos), end, i;
    int comment = 0;

    for (i = start; i < eol; i++) {
        if (p->s[i] == '#' && i > start && fm_is_ws(p->s[i - 1])) {
            comment = 1;
            break;
        }
        if (p->s[i] == ':' && (i + 1 >= eol || fm_is_ws(p->s[i + 1]))) {
            fm_fail(p, i, "mapping values are not allowed here "
                          "(quote a value that contains ': ')");
            return -1;
        }
    }
    end = i;
    while (end > start && fm_is_ws(p->s[end - 1]))
        end--;
    buf_append(b, p->s + start, end - start);
    p->pos = eol < p->len ? eol + 1 : eol;
    return comment;
}

/* A plain scalar in block context, continued on more-indented lines. */
static cJSON *fm_plain_block(fm_parser *p, int indent)
{
    nemo_buf b = NEMO_BUF_INIT;
    size_t at = p->pos;
    int r;

    buf_puts(&b, "");
    r = fm_plain_segment(p, &b);
    while (r == 0 && p->pos < p->len) {
        size_t save = p->pos, i;
        int empty = 0, sp;

        /* count empty lines, stop at a comment line */
        for (;;) {
            i = p->pos;
            while (i < p->len && fm_is_ws(p->s[i]))
                i++;
            if (i < p->len && p->s[i] == '\n') {
                empty++;
                p->pos = i + 1;
                continue;
            }
            break;
        }
        if (i >= p->len || p->s[i] == '#') {
            p->pos = save;
            break;
        }
        for (sp = 0; p->s[p->pos + (size_t)sp] == ' '; sp++)
            ;
        if (sp <= indent) {
            p->pos = save;
            break;
        }
        if (empty == 0)
            buf_putc(&b, ' ');
        fm_newlines(&b, empty);
        p->pos = i;
        r = fm_plain_segment(p, &b);
    }
    if (r < 0) {
        buf_free(&b);
        return NULL;
    }
    return fm_string_from(p, &b, at);
}

static cJSON *fm_mapping(fm_parser *p, int indent);

static cJSON *fm_sequence(fm_parser *p, int indent)
{
    cJSON *arr = cJSON_CreateArray();
    int count = 0;

    if (!arr || fm_enter(p) < 0)
        goto fail;
    for (;;) {
        size_t at = p->pos, ls;
        cJSON *item;
        int n;

        p->pos++; /* '-' */
        item = fm_value(p, indent, 1);
        if (!item || fm_push(p, arr, item, &count, at) < 0)
            goto fail;
        fm_skip_blank_lines(p);
        if (p->pos >= p->len)
            break;
        ls = p->pos;
        if (fm_indent(p, ls, &n) < 0)
            goto fail;
        if (n > indent) {
            fm_fail(p, ls, "unexpected indentation");
            goto fail;
        }
        if (n < indent || !fm_is_seq_entry(p, ls + (size_t)n))
            break;
        p->pos = ls + (size_t)n;
    }
    p->depth--;
    return arr;
fail:
    cJSON_Delete(arr);
    return NULL;
}

/* A block mapping whose first key starts at p->pos (at column indent). */
static cJSON *fm_mapping(fm_parser *p, int indent)
{
    cJSON *obj = cJSON_CreateObject();
    int count = 0;

    if (!obj || fm_enter(p) < 0)
        goto fail;
    for (;;) {
        size_t at = p->pos, ls;
        char *key = fm_key(p);
        cJSON *val;
        int n;

        if (!key)
            goto fail;
        val = fm_value(p, indent, 0);
        if (!val) {
            free(key);
            goto fail;
        }
        if (fm_put(p, obj, key, val, &count, at) < 0) {
            free(key);
            goto fail;
        }
        free(key);
        fm_skip_blank_lines(p);
        if (p->pos >= p->len)
            break;
        ls = p->pos;
        if (fm_indent(p, ls, &n) < 0)
            goto fail;
        if (n < indent)
            break;
        if (n > indent) {
            fm_fail(p, ls, "unexpected indentation");
            goto fail;
        }
        p->pos = ls + (size_t)n;
        if (fm_is_seq_entry(p, p->pos)) {
            fm_fail(p, ls, "expected a key, found a sequence entry '- '");
            goto fail;
        }
    }
    p->depth--;
    return obj;
fail:
    cJSON_Delete(obj);
    return NULL;
}

/* The value of a key or a sequence entry, starting after ':' or '-' on
 * the same line. indent: the owner's indentation (mapping column or the
 * '-' column). On return p->pos is at the start of a line. */
static cJSON *fm_value(fm_parser *p, int indent, int in_seq)
{
    size_t at, ls;
    cJSON *v;
    char c;

    fm_skip_inline_ws(p);
    if (p->pos >= p->len || p->s[p->pos] == '\n' || p->s[p->pos] == '#') {
        p->pos = fm_eol(p, p->pos);
        if (p->pos < p->len)
            p->pos++;
        return fm_block_node(p, indent, !in_seq);
    }
    at = p->pos;
    c = p->s[at];
    switch (c) {
    case '|':
    case '>':
        return fm_block_scalar(p, indent);
    case '[':
    case '{':
    case '"':
    case '\'':
        if (in_seq && fm_looks_like_key(p, at))
            break;
        v = c == '[' ? fm_flow_sequence(p)
          : c == '{' ? fm_flow_mapping(p) : fm_quoted(p);
        if (v && fm_finish_line(p) < 0) {
            cJSON_Delete(v);
            return NULL;
        }
        return v;
    case '&':
    case '*':
    case '!':
        return fm_fail(p, at, "anchors, aliases and tags are not supported");
    case '%':
    case '@':
    case '`':
    case ',':
    case ']':
    case '}':
        return fm_fail(p, at, "a plain value cannot start with '%c'", c);
    default:
        break;
    }
    ls = fm_line_start(p, at);
    if (fm_is_seq_entry(p, at)) {
        if (!in_seq)
            return fm_fail(p, at, "a sequence cannot start on the key's "
                                  "line; put '- ' items on the next lines");
        return fm_sequence(p, (int)(at - ls));
    }
    if (in_seq && fm_looks_like_key(p, at))
        return fm_mapping(p, (int)(at - ls));
    return fm_plain_block(p, indent);
}

/* A value that starts on the line after "key:" or "-" (or is empty).
 * in_map: the owner is a mapping, whose sequence value may sit at the
 * key's own indentation. */
static cJSON *fm_block_node(fm_parser *p, int indent, int in_map)
{
    size_t ls;
    int n;

    fm_skip_blank_lines(p);
    if (p->pos >= p->len)
        return cJSON_CreateNull();
    ls = p->pos;
    if (fm_indent(p, ls, &n) < 0)
        return NULL;
    if (fm_is_seq_entry(p, ls + (size_t)n) &&
        (n > indent || (n == indent && in_map))) {
        p->pos = ls + (size_t)n;
        return fm_sequence(p, n);
    }
    if (n <= indent)
        return cJSON_CreateNull();
    p->pos = ls + (size_t)n;
    if (fm_looks_like_key(p, p->pos))
        return fm_mapping(p, n);
    if (p->s[p->pos] == '?' &&
        (p->pos + 1 >= p->len || fm_is_ws(p->s[p->pos + 1])))
        return fm_fail(p, p->pos, "complex keys ('? ') are not supported");
    return fm_value(p, indent, 0);
}

static cJSON *fm_root(fm_parser *p)
{
    cJSON *root;
    size_t ls;
    int n;

    fm_skip_blank_lines(p);
    if (p->pos >= p->len)
        return cJSON_CreateObject();
    ls = p->pos;
    if (fm_indent(p, ls, &n) < 0)
        return NULL;
    p->pos = ls + (size_t)n;
    if (!fm_looks_like_key(p, p->pos)) {
        if (p->s[p->pos] == '"' || p->s[p->pos] == '\'' ||
            fm_is_seq_entry(p, p->pos) || strchr("[{", p->s[p->pos]))
            return fm_fail(p, ls, "the frontmatter must be a mapping of "
                                  "'key: value' lines");
        free(fm_key(p)); /* reports the error */
        return NULL;
    }
    root = fm_mapping(p, n);
    if (root) {
        fm_skip_blank_lines(p);
        if (p->pos < p->len) {
            fm_fail(p, p->pos, "unexpected indentation");
            cJSON_Delete(root);
            return NULL;
        }
    }
    return root;
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
    p.s = norm;
    p.len = flen;
    p.first_line = 2;
    p.err = err;
    p.errlen = errlen;
    root = fm_root(&p);
    if (!root && !p.failed)
        snprintf(err, errlen, "out of memory");
    free(norm);
    return root;
}

const char *fm_get_string(const cJSON *fm, const char *key)
{
    const cJSON *v;

    if (!fm || !key)
        return NULL;
    v = cJSON_GetObjectItemCaseSensitive(fm, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
