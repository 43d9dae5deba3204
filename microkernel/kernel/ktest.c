/* The in-kernel test runner; see include/mica/ktest.h. */
#include <stddef.h>

#include "base/str.h"
#include "mica/ktest.h"
#include "mica/log.h"

extern const struct ktest __start_ktests[], __stop_ktests[];

static unsigned current_failures;

void ktest_fail(const char *file, int line, const char *what)
{
    current_failures++;
    kprintf("# check failed at %s:%d: %s\n", file, line, what);
}

/* True when `suite` is one of the comma-separated words of spec[0..len). */
static bool selected(const char *suite, const char *spec, unsigned long len)
{
    unsigned long i = 0;
    while (i < len) {
        unsigned long j = i;
        while (j < len && spec[j] != ',')
            j++;
        unsigned long n = j - i;
        if ((n == 3 && spec[i] == 'a' && spec[i + 1] == 'l' && spec[i + 2] == 'l') ||
            (str_nlen(suite, n + 1) == n && __builtin_memcmp(suite, spec + i, n) == 0))
            return true;
        i = j + 1;
    }
    return false;
}

unsigned ktest_run(const char *spec, unsigned long spec_len)
{
    unsigned total = 0, passed = 0, failed = 0;
    for (const struct ktest *t = __start_ktests; t < __stop_ktests; t++)
        total += selected(t->suite, spec, spec_len);
    if (total == 0)
        return KTEST_NONE; /* the suites are user-space ones: init runs them */
    kprintf("TAP version 13\n1..%u\n", total);
    for (const struct ktest *t = __start_ktests; t < __stop_ktests; t++) {
        if (!selected(t->suite, spec, spec_len))
            continue;
        current_failures = 0;
        t->fn();
        if (current_failures == 0) {
            passed++;
            kprintf("ok %u - %s/%s\n", passed + failed, t->suite, t->name);
        } else {
            failed++;
            kprintf("not ok %u - %s/%s\n", passed + failed, t->suite, t->name);
        }
    }
    kprintf("# ktest: passed=%u failed=%u\n", passed, failed);
    return failed;
}
