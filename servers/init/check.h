/* Checks for init's in-guest suites (ipc, pager, servers): each failed
 * check prints its file, line and values as a TAP comment and counts in
 * the including file's `failures` (or `case_failures`) variable. */
#ifndef INIT_CHECK_H
#define INIT_CHECK_H

#include <mica/ipc.h>

#ifndef CHECK_FAILURES
#define CHECK_FAILURES failures
#endif

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            CHECK_FAILURES++;                                                                                \
            mica_printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                           \
        }                                                                                                    \
    } while (0)

#define CHECK_EQ(a, b)                                                                                       \
    do {                                                                                                     \
        long long a_ = (long long)(a), b_ = (long long)(b);                                                  \
        if (a_ != b_) {                                                                                      \
            CHECK_FAILURES++;                                                                                \
            mica_printf("# %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, a_, #b, b_);   \
        }                                                                                                    \
    } while (0)

#endif
