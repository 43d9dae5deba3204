/* Tiny host unit-test framework: every CHECK prints one TAP line.
 * A test program calls CHECK* as often as it likes and ends with
 * `return check_done();`, which prints the plan line and exits non-zero
 * when any check failed.  The Makefile counts the TAP lines. */
#ifndef MICA_TEST_CHECK_H
#define MICA_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>

static int check_count, check_failed;

/* Record one result; `what` names the check in the TAP line. */
static inline int check_report(int ok, const char *what, const char *file, int line)
{
    check_count++;
    if (ok) {
        printf("ok %d - %s\n", check_count, what);
    } else {
        check_failed++;
        printf("not ok %d - %s (%s:%d)\n", check_count, what, file, line);
    }
    return ok;
}

#define CHECK(cond) check_report(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ_U64(a, b)                                                                                   \
    do {                                                                                                     \
        uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);                                         \
        if (!check_report(check_a_ == check_b_, #a " == " #b, __FILE__, __LINE__))                           \
            printf("#   got 0x%" PRIx64 ", want 0x%" PRIx64 "\n", check_a_, check_b_);                       \
    } while (0)

/* Print the TAP plan and return the process exit status. */
static inline int check_done(void)
{
    printf("1..%d\n", check_count);
    return check_failed ? 1 : 0;
}

#endif
