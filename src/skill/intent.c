/* intent.c - route a prompt the way the seeds' table does.
 *
 * The seeds send "export", "credits", "status" and "upload" requests
 * straight to their endpoints and everything else to the agent. Taken
 * literally that would turn "add a title that says 'Download now'" into an
 * export, so a prompt only skips the agent when it reads as a command:
 *   - it names one of the table's keywords (whole words in English),
 *   - it is short (at most INTENT_MAX_WORDS words, or INTENT_MAX_CJK
 *     characters of CJK text),
 *   - it quotes nothing and uses no editing verb ("add", "make", 添加 ...).
 * Everything else goes to the agent, which understands the rest. */
#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "nemo/intent.h"

#define INTENT_MAX_WORDS 10
#define INTENT_MAX_CJK 16
#define INTENT_MAX_PROMPT 512

static const struct {
    const char *phrase;   /* lower-case; ASCII phrases match whole words */
    intent_route route;
} intent_keywords[] = {
    { "send me the video", INTENT_EXPORT },
    { "export", INTENT_EXPORT },
    { "download", INTENT_EXPORT },
    { "导出", INTENT_EXPORT },
    { "下载", INTENT_EXPORT },
    { "credits", INTENT_CREDITS },
    { "credit", INTENT_CREDITS },
    { "balance", INTENT_CREDITS },
    { "积分", INTENT_CREDITS },
    { "余额", INTENT_CREDITS },
    { "show tracks", INTENT_STATE },
    { "show the tracks", INTENT_STATE },
    { "status", INTENT_STATE },
    { "状态", INTENT_STATE },
    { "轨道", INTENT_STATE },
    { "upload", INTENT_UPLOAD },
    { "上传", INTENT_UPLOAD },
};

/* Verbs that make a prompt an edit for the agent, whatever else it says. */
static const char *const intent_edit_words[] = {
    "add", "make", "put", "change", "create", "generate", "insert",
    "remove", "delete", "cut", "trim", "replace", "animate", "turn",
    "apply", "edit", "move", "write", "caption", "title", "music",
    "添加", "加上", "加入", "制作", "生成", "删除", "剪", "修改", "替换",
    "做", "配乐", "字幕", "标题",
};

static const char *const intent_quotes[] = {
    "\xe2\x80\x9c", "\xe2\x80\x9d", "\xe2\x80\x98",
    "\xe2\x80\x99", "\xe3\x80\x8c", "\xe3\x80\x8d",
};

static const char *const intent_names[] = {
    [INTENT_AGENT] = "agent",     [INTENT_EXPORT] = "export",
    [INTENT_CREDITS] = "credits", [INTENT_STATE] = "state",
    [INTENT_UPLOAD] = "upload",
};

const char *intent_name(intent_route r)
{
    return (unsigned)r < sizeof intent_names / sizeof intent_names[0]
               ? intent_names[r] : "agent";
}

/* Does phrase occur in text (both lower-case)? ASCII phrases must start
 * and end on word boundaries ("download" is not in "downloaded"); CJK
 * phrases match anywhere, CJK having no spaces between words. */
static int has_phrase(const char *text, const char *phrase)
{
    size_t n = strlen(phrase);
    const char *p = text;

    if ((unsigned char)phrase[0] & 0x80)
        return strstr(text, phrase) != NULL;
    while ((p = strstr(p, phrase)) != NULL) {
        if ((p == text || !isalnum((unsigned char)p[-1])) &&
            !isalnum((unsigned char)p[n]))
            return 1;
        p++;
    }
    return 0;
}

/* Quoted text means words for the video ("a title saying 'Export'"), not
 * a command. An apostrophe inside a word ("what's") is not a quote. */
static int has_quote(const char *text)
{
    const char *p;
    size_t i;

    if (strchr(text, '"'))
        return 1;
    for (p = strchr(text, '\''); p; p = strchr(p + 1, '\''))
        if (p == text || !isalpha((unsigned char)p[-1]) ||
            !isalpha((unsigned char)p[1]))
            return 1;
    for (i = 0; i < sizeof intent_quotes / sizeof intent_quotes[0]; i++)
        if (strstr(text, intent_quotes[i]))
            return 1;
    return 0;
}

static int contains_any(const char *text, const char *const *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (has_phrase(text, list[i]))
            return 1;
    return 0;
}

/* Words (ASCII runs) and CJK code points in text. */
static void measure(const char *text, int *words, int *cjk)
{
    const unsigned char *p = (const unsigned char *)text;
    int in_word = 0;

    *words = *cjk = 0;
    for (; *p; p++) {
        if (*p >= 0xE0 && *p < 0xF0)
            (*cjk)++;   /* three-byte sequences: the CJK planes */
        if (isalnum(*p)) {
            if (!in_word)
                (*words)++;
            in_word = 1;
        } else {
            in_word = 0;
        }
    }
}

intent_route intent_classify(const char *prompt)
{
    char text[INTENT_MAX_PROMPT];
    size_t i, n;
    int words, cjk;

    if (!prompt)
        return INTENT_AGENT;
    n = strlen(prompt);
    if (n == 0 || n >= sizeof text)
        return INTENT_AGENT;
    for (i = 0; i <= n; i++)
        text[i] = (char)tolower((unsigned char)prompt[i]);
    if (has_quote(text))
        return INTENT_AGENT;
    measure(text, &words, &cjk);
    if (words > INTENT_MAX_WORDS || cjk > INTENT_MAX_CJK)
        return INTENT_AGENT;
    if (contains_any(text, intent_edit_words,
                     sizeof intent_edit_words / sizeof intent_edit_words[0]))
        return INTENT_AGENT;
    for (i = 0; i < sizeof intent_keywords / sizeof intent_keywords[0]; i++)
        if (has_phrase(text, intent_keywords[i].phrase))
            return intent_keywords[i].route;
    return INTENT_AGENT;
}
