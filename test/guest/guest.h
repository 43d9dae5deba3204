/* The in-guest tests (test/guest/): one registered table of cases, one
 * runner (runner.c), one CHECK.  They are linked with init's manager into
 * the test image, build/init-test.elf; the production init.elf has none of
 * this (docs/testing.md).
 *
 *   GUEST_SUITE(ipc, .passes = 2, .pass_names = ipc_passes, .baseline = true);
 *   GUEST_TEST(ipc, null_syscall) { CHECK_EQ(mica_null(), MICA_OK); }
 *
 * A case is a function in the guest_tests section; a suite's settings are
 * in the guest_suites section.  The runner runs the suites the kernel
 * command line selects (test=NAME,... or bench=NAME), each case in
 * registration order (the objects are built with -fno-toplevel-reorder, so
 * that is the order in the file), and prints TAP: the plan, one line per
 * case "ok N - SUITE/[PASS/]NAME", and "# SUITE: passed=P failed=F". */
#ifndef GUEST_H
#define GUEST_H

#include <mica/ipc.h>
#include <stdbool.h>

#include "init.h"

struct guest_test {
    const char *suite;
    const char *name; /* the TAP name: SUITE/NAME */
    void (*fn)(void);
};

struct guest_suite {
    const char *name;
    const char *key;               /* the command-line key that selects it: "test" (or NULL) or "bench" */
    unsigned passes;               /* the cases run this many times (0 counts as 1) */
    const char *const *pass_names; /* a name per pass, in TAP names as SUITE/PASS/NAME */
    void (*before_pass)(unsigned pass);
    void (*after)(void); /* after the last pass, before the baseline check */
    int prio;            /* init's main thread runs each case at this priority (0: as it is) */
    bool baseline;       /* last line: objects_back_to_baseline (the kernel's live objects as before) */
    bool thread;      /* run on a thread of init while init serves the names; shuts down with the verdict */
    int (*run)(void); /* instead of cases: a whole-suite program that prints its own TAP; failures */
    void (*before_pager)(void); /* when selected: run before the pager starts (init still holds the window) */
};

#define GUEST_SECTION_(s) __attribute__((section(s), used, aligned(8)))
#define GUEST_CAT2_(a, b) a##b
#define GUEST_CAT_(a, b) GUEST_CAT2_(a, b)

/* Define and register a case: GUEST_TEST(suite, name) { body }. */
#define GUEST_TEST(suite_, name_)                                                                            \
    static void guest_##suite_##_##name_(void);                                                              \
    static const struct guest_test guest_entry_##suite_##_##name_ GUEST_SECTION_("guest_tests") = {          \
        #suite_, #name_, guest_##suite_##_##name_};                                                          \
    static void guest_##suite_##_##name_(void)

/* Register an existing void fn(void) as case "name" (any string) of suite. */
#define GUEST_CASE(suite_, name_, fn_)                                                                       \
    static const struct guest_test GUEST_CAT_(guest_case_, __LINE__)                                         \
        GUEST_SECTION_("guest_tests") = {#suite_, name_, fn_}

/* Register a suite's settings: GUEST_SUITE(ipc, .baseline = true). */
#define GUEST_SUITE(suite_, ...)                                                                             \
    static const struct guest_suite guest_suite_##suite_ GUEST_SECTION_("guest_suites") = {.name = #suite_,  \
                                                                                           __VA_ARGS__}

/* Record a failed check of the running case (it goes on, so one run
 * shows every failure): file, line and what failed as a TAP comment. */
void guest_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The failed checks of the running case so far. */
int guest_case_failures(void);

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond))                                                                                         \
            guest_fail(__FILE__, __LINE__, "check failed: %s", #cond);                                       \
    } while (0)

#define CHECK_EQ(a, b)                                                                                       \
    do {                                                                                                     \
        long long a_ = (long long)(a), b_ = (long long)(b);                                                  \
        if (a_ != b_)                                                                                        \
            guest_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, a_, #b, b_);               \
    } while (0)

/* The IPC buffer of a thread suite's thread (NULL on init's main thread). */
extern struct mica_ipc_buffer *guest_buffer;

/* The number after `key=` on the kernel command line, or dflt. */
uint64_t guest_cmdline_number(const char *key, uint64_t dflt);

/* Child tasks on init's code (child.c; spawn_local is init's own, mem.c). */
/* A new task running fn(arg, buffer) on init's code (shared read-only);
 * its task and thread handles are returned. */
int spawn_remote(mica_thread_fn *fn, uint64_t arg, int prio, mica_handle_t *task_out,
                 mica_handle_t *thread_out);
/* The same, giving the child handle `give` (with rights and badge) and
 * passing its number there as the argument, at priority 40. */
int spawn_remote_with(mica_thread_fn *fn, mica_handle_t give, uint32_t rights, uint64_t badge,
                      mica_handle_t *task_out, mica_handle_t *thread_out);
/* A child task that is a pager client with `quota` pages, whose faults go
 * to the pager; its pager handle's number there in *remote (child.c). */
int client_task(uint64_t quota, mica_handle_t *task, uint64_t *id, mica_handle_t *remote);
/* Start fn(arg, buffer) in an existing task on init's code (as spawn_remote). */
int spawn_in_task(mica_handle_t task, mica_thread_fn *fn, uint64_t arg, int prio, mica_handle_t *thread_out);
/* Poll (every 2 ms, up to max_us) until task has ended; its status then,
 * or the last one seen (MICA_TASK_ALIVE) when it did not end in time. */
struct mica_task_status child_wait_end(mica_handle_t task, uint64_t max_us);

/* The ring-0 boundary probes (hostile.c), shared with the fuzzer; each
 * touches no global, so a child task with init's code can run it.  A page
 * of init's text whose last four bytes pop RAX and RDI and make a call (map
 * it at the top of the user half); 32-bit code for to_compat; a SYSCALL
 * with TF set. */
extern const char hostile_top_page[];
extern const char compat_syscall[], compat_sysenter[], compat_int80[], compat_lcall_tss[],
    compat_load_kernel_ds[];
void to_compat(uint64_t addr, struct mica_ipc_buffer *buf);
void syscall_with_tf(uint64_t arg, struct mica_ipc_buffer *buf);

#endif
