/* In-kernel tests: a registered table, selected from the command line
 * (test=<suite>[,<suite>...]), reporting TAP on the log.
 *
 *   KTEST(boot, free_set_sorted) { KT_CHECK(...); }
 *
 * Each test is a function in the .ktests section; the runner counts the
 * selected ones, prints the plan, runs them in link order and ends with
 * "# ktest: passed=N failed=N" and, under test, the emulator's exit code. */
#ifndef MICA_KTEST_H
#define MICA_KTEST_H

#include <stdbool.h>

struct ktest {
    const char *suite;
    const char *name;
    void (*fn)(void);
};

#define KTEST(suite_, name_)                                                                                 \
    static void ktest_##suite_##_##name_(void);                                                              \
    static const struct ktest ktest_entry_##suite_##_##name_                                                 \
        __attribute__((section(".ktests"), used, aligned(8))) = {#suite_, #name_, ktest_##suite_##_##name_}; \
    static void ktest_##suite_##_##name_(void)

/* Record a failed check (the test goes on, so one run shows every failure). */
void ktest_fail(const char *file, int line, const char *what);

#define KT_CHECK(cond)                                                                                       \
    do {                                                                                                     \
        if (!(cond))                                                                                         \
            ktest_fail(__FILE__, __LINE__, #cond);                                                           \
    } while (0)

/* Run the in-kernel suites named in `spec` (comma-separated, "all" for
 * every one); returns the failure count, or KTEST_NONE when no in-kernel
 * suite matched (then the names are for init's user-space suites). */
#define KTEST_NONE (~0u)
unsigned ktest_run(const char *spec, unsigned long spec_len);

/* Deliberate faults (test=fault:<kind>): does not return when the kind is
 * known; returns false for an unknown kind. */
bool ktest_fault(const char *kind, unsigned long len);

#endif
