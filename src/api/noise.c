/* noise.c - the table of backend boilerplate dropped from the end of an
 * agent's reply, and the one rule that uses it (see noise.h).
 *
 * A phrase counts as trailing when it sits in the reply's last paragraph;
 * the cut starts at the beginning of the sentence holding it ("Sorry, I
 * encountered a temporary issue. Please try again." goes whole). */
#include <string.h>
#include <strings.h>

#include "nemo/noise.h"

/* English phrases match without regard to ASCII case. The skill quotes the
 * English phrase only; the Chinese ones are how the agent says the same
 * when it answers in Chinese (not quoted by the skill: extend the table
 * when the real wording is seen). */
static const char *const noise_phrases[] = {
    "I encountered a temporary issue",
    "I've encountered a temporary issue",
    "\xE6\x88\x91\xE9\x81\x87\xE5\x88\xB0\xE4\xBA\x86\xE4\xB8\x80\xE4\xB8\xAA"
    "\xE4\xB8\xB4\xE6\x97\xB6\xE9\x97\xAE\xE9\xA2\x98",   /* 我遇到了一个临时问题 */
    "\xE6\x88\x91\xE9\x81\x87\xE5\x88\xB0\xE4\xBA\x86\xE4\xB8\xB4\xE6\x97\xB6"
    "\xE9\x97\xAE\xE9\xA2\x98",                           /* 我遇到了临时问题 */
    "\xE9\x81\x87\xE5\x88\xB0\xE4\xBA\x86\xE4\xB8\xB4\xE6\x97\xB6\xE9\x97\xAE"
    "\xE9\xA2\x98",                                       /* 遇到了临时问题 */
};

/* How far back a sentence may start before the phrase ("Sorry, but "),
 * and how much may follow it ("... Please try again later."): more than
 * that is the agent talking, not boilerplate. */
#define NOISE_LEAD_MAX 48
#define NOISE_TAIL_MAX 160

/* Sentence ends: ASCII, and the full-width 。！？ (3 bytes each). */
static size_t noise_sentence_end(const char *s, size_t i)
{
    static const char *const wide[] = { "\xE3\x80\x82", "\xEF\xBC\x81",
                                        "\xEF\xBC\x9F" };
    size_t k;

    if (s[i - 1] == '.' || s[i - 1] == '!' || s[i - 1] == '?' ||
        s[i - 1] == '\n')
        return 1;
    for (k = 0; i >= 3 && k < sizeof wide / sizeof wide[0]; k++)
        if (memcmp(s + i - 3, wide[k], 3) == 0)
            return 1;
    return 0;
}

static int noise_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Last position of needle within the final NOISE_TAIL_MAX bytes after
 * it (ASCII case folded when fold), or len when absent. */
static size_t noise_last(const char *s, size_t len, const char *needle,
                         int fold)
{
    size_t n = strlen(needle), i, stop;

    if (n > len)
        return len;
    stop = len - n > NOISE_TAIL_MAX ? len - n - NOISE_TAIL_MAX : 0;
    for (i = len - n + 1; i-- > stop;)
        if ((fold ? strncasecmp(s + i, needle, n) : memcmp(s + i, needle, n))
            == 0)
            return i;
    return len;
}

/* Start of the sentence that holds position p. */
static size_t noise_sentence_start(const char *s, size_t p)
{
    size_t i = p;

    while (i > 0 && p - i < NOISE_LEAD_MAX && !noise_sentence_end(s, i))
        i--;
    if (i > 0 && !noise_sentence_end(s, i))
        return p;               /* a long lead-in: cut at the phrase only */
    while (i < p && noise_space(s[i]))
        i++;
    return i;
}

size_t noise_trim_trailing(const char *reply, size_t len)
{
    size_t best = len, i, p, cut;

    if (!reply)
        return 0;
    for (i = 0; i < sizeof noise_phrases / sizeof noise_phrases[0]; i++) {
        int ascii = (unsigned char)noise_phrases[i][0] < 0x80;

        p = noise_last(reply, len, noise_phrases[i], ascii);
        if (p < len && (best == len || p > best))
            best = p;
    }
    if (best == len)
        return len;
    /* Only in the last paragraph: a phrase followed by more paragraphs is
     * part of what the agent said. */
    for (i = best; i + 1 < len; i++)
        if (reply[i] == '\n' && (reply[i + 1] == '\n' ||
                                 (reply[i + 1] == '\r' && i + 2 < len &&
                                  reply[i + 2] == '\n')))
            return len;
    cut = noise_sentence_start(reply, best);
    while (cut > 0 && noise_space(reply[cut - 1]))
        cut--;
    return cut > 0 ? cut : len;  /* nothing normal before it: keep */
}
