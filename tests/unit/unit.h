/* unit.h - a tiny TAP-like harness for the C unit tests.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_STR(a, "b"); }
 *   int main(void) { RUN(name); return unit_done(); }
 *
 * Each test prints "ok <name>" or "not ok <name>" plus the failed checks;
 * tests/run.py counts those lines. */
#ifndef NEMO_UNIT_H
#define NEMO_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed_checks;
static int unit_passed_tests;
static int unit_failed_tests;

#define TEST(name) static void test_##name(void)

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            unit_failed_checks++;                                            \
            printf("#   %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__,      \
                   #cond);                                                   \
        }                                                                    \
    } while (0)

#define CHECK_INT(a, b)                                                      \
    do {                                                                     \
        long long va_ = (long long)(a), vb_ = (long long)(b);                \
        if (va_ != vb_) {                                                    \
            unit_failed_checks++;                                            \
            printf("#   %s:%d: %s == %lld, expected %lld\n", __FILE__,       \
                   __LINE__, #a, va_, vb_);                                  \
        }                                                                    \
    } while (0)

#define CHECK_STR(a, b)                                                      \
    do {                                                                     \
        const char *sa_ = (a), *sb_ = (b);                                   \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                         \
            unit_failed_checks++;                                            \
            printf("#   %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,   \
                   __LINE__, #a, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)"); \
        }                                                                    \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                          \
    do {                                                                     \
        const char *h_ = (hay), *n_ = (needle);                              \
        if (!h_ || !strstr(h_, n_)) {                                        \
            unit_failed_checks++;                                            \
            printf("#   %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__,  \
                   __LINE__, h_ ? h_ : "(null)", n_);                        \
        }                                                                    \
    } while (0)

#define RUN(name)                                                            \
    do {                                                                     \
        int before_ = unit_failed_checks;                                    \
        test_##name();                                                       \
        if (unit_failed_checks == before_) {                                 \
            unit_passed_tests++;                                             \
            printf("ok %s\n", #name);                                        \
        } else {                                                             \
            unit_failed_tests++;                                             \
            printf("not ok %s\n", #name);                                    \
        }                                                                    \
        fflush(stdout);                                                      \
    } while (0)

static inline int unit_done(void)
{
    printf("# %d passed, %d failed\n", unit_passed_tests, unit_failed_tests);
    return unit_failed_tests ? 1 : 0;
}

#endif
