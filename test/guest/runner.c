/* The one runner of the in-guest tests: it finds the suites the kernel
 * command line selects in the guest_suites section and runs their cases
 * from the guest_tests section (guest.h), printing TAP.  It is reached
 * through init_test_hooks (servers/init/init.h), after init started every
 * module, so a case sees the system as a production boot would. */
#include <stdarg.h>

#include "base/fmt.h"
#include "base/str.h"
#include "crasher/crasher.h"
#include "guest.h"

extern const struct guest_test __start_guest_tests[], __stop_guest_tests[];
extern const struct guest_suite __start_guest_suites[], __stop_guest_suites[];

struct mica_ipc_buffer *guest_buffer;

static int case_failures; /* of the running case */
static int failed_before; /* by the suites run before a thread suite */

void guest_fail(const char *file, int line, const char *fmt, ...)
{
    char what[240];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    case_failures++;
    mica_printf("# %s:%d: %s\n", file, line, what);
}

int guest_case_failures(void)
{
    return case_failures;
}

uint64_t guest_cmdline_number(const char *key, uint64_t dflt)
{
    const char *v;
    size_t len;
    uint64_t n;
    if (str_word_value(bootinfo->cmdline, key, &v, &len) && str_parse_u64(v, len, &n))
        return n;
    return dflt;
}

/* True when the kernel command line names suite s in its key's list. */
static bool selected(const struct guest_suite *s)
{
    const char *v;
    size_t len, n = str_nlen(s->name, 64);
    if (!str_word_value(bootinfo->cmdline, s->key ? s->key : "test", &v, &len))
        return false;
    for (size_t i = 0; i + n <= len; i++)
        if ((i == 0 || v[i - 1] == ',') && (i + n == len || v[i + n] == ',') &&
            __builtin_memcmp(v + i, s->name, n) == 0)
            return true;
    return false;
}

/* True when case t belongs to suite s. */
static bool in_suite(const struct guest_test *t, const struct guest_suite *s)
{
    return str_eq(t->suite, s->name);
}

/* The number of cases registered for s. */
static int count_cases(const struct guest_suite *s)
{
    int n = 0;
    for (const struct guest_test *t = __start_guest_tests; t < __stop_guest_tests; t++)
        n += in_suite(t, s);
    return n;
}

/* Set init's main thread to the suite's priority (cases may lower it). */
static void suite_prio(const struct guest_suite *s)
{
    if (s->prio)
        mica_thread_set_priority(bootinfo->self_thread, (uint32_t)s->prio);
}

/* One TAP line for case t of s in pass `pass`; its failed checks counted. */
static void run_case(const struct guest_suite *s, const struct guest_test *t, unsigned pass, int n)
{
    const char *pname = s->pass_names ? s->pass_names[pass] : "";
    const char *sep = s->pass_names ? "/" : "";
    case_failures = 0;
    mica_printf("# running %s/%s%s%s\n", s->name, pname, sep, t->name); /* names the case a crash ends */
    t->fn();
    suite_prio(s);
    mica_printf("%s %d - %s/%s%s%s\n", case_failures ? "not ok" : "ok", n, s->name, pname, sep, t->name);
}

/* After the cases: the kernel's live objects are as before them, all but
 * init's page tables, which grow with init's heap (the pager serves it on
 * demand); and so are the pool's free pages and init's kernel-memory use,
 * page for page, less those tables.  One TAP line; true when it passed. */
static bool back_to_baseline(const struct guest_suite *s, const struct mica_obj_counts *base, int n)
{
    struct mica_obj_counts end;
    mica_sleep_us(5000); /* the kernel frees dead threads' stacks when it next schedules */
    mica_debug_counts(&end);
    int leaks = 0;
    for (int i = 0; i < MICA_TAG_COUNT; i++)
        leaks += i != MICA_TAG_PAGE_TABLE && end.live[i] != base->live[i];
    uint64_t new_tables = end.live[MICA_TAG_PAGE_TABLE] - base->live[MICA_TAG_PAGE_TABLE];
    leaks += end.pool_pages_free + new_tables != base->pool_pages_free;
    leaks += end.kmem_used != base->kmem_used + new_tables;
    mica_printf("%s %d - %s/objects_back_to_baseline\n", leaks ? "not ok" : "ok", n, s->name);
    if (leaks)
        mica_debug_counts(NULL);
    return leaks == 0;
}

/* Run every case of s (each pass), TAP plan first, summary last; the
 * number of failed TAP lines. */
static int run_cases(const struct guest_suite *s)
{
    unsigned passes = s->passes ? s->passes : 1;
    struct mica_obj_counts base;
    suite_prio(s);
    if (s->baseline)
        mica_debug_counts(&base);
    mica_printf("TAP version 13\n1..%d\n", (int)passes * count_cases(s) + (s->baseline ? 1 : 0));
    int n = 0, failed = 0;
    for (unsigned pass = 0; pass < passes; pass++) {
        if (s->before_pass)
            s->before_pass(pass);
        for (const struct guest_test *t = __start_guest_tests; t < __stop_guest_tests; t++) {
            if (!in_suite(t, s))
                continue;
            run_case(s, t, pass, ++n);
            failed += case_failures != 0;
        }
    }
    if (s->after)
        s->after();
    if (s->baseline)
        failed += !back_to_baseline(s, &base, ++n);
    mica_printf("# %s: passed=%d failed=%d\n", s->name, n - failed, failed);
    return failed;
}

/* A whole-suite program or the cases of s; failures counted. */
static int run_suite(const struct guest_suite *s)
{
    return s->run ? s->run() : run_cases(s);
}

/* A thread suite's thread: it runs the suite while init's main thread
 * serves the names, then shuts down with the verdict of the whole boot. */
static void suite_thread(uint64_t arg, struct mica_ipc_buffer *buf)
{
    guest_buffer = buf; /* this thread's own IPC buffer, for the name calls */
    int failed = run_suite((const struct guest_suite *)(uintptr_t)arg);
    mica_debug_shutdown(failed + failed_before != 0);
}

/* init_test_hooks.run: the selected suites in link order (a thread suite
 * last, as init serves); shuts down with the verdict, or returns when the
 * command line selects none. */
static void guest_run(void)
{
    const struct guest_suite *threaded = NULL;
    bool ran = false;
    for (const struct guest_suite *s = __start_guest_suites; s < __stop_guest_suites; s++) {
        if (!selected(s))
            continue;
        if (s->thread)
            threaded = s;
        else
            failed_before += run_suite(s);
        ran = true;
    }
    if (threaded != NULL) {
        mica_handle_t th = 0;
        if (spawn_local(suite_thread, (uint64_t)(uintptr_t)threaded, 30, &th) != MICA_OK)
            mica_debug_shutdown(1);
        servers_serve();
    }
    if (ran)
        mica_debug_shutdown(failed_before != 0);
}

/* crash=KIND on a module line: the crasher fixture's argument word
 * (test/guest/crasher/crasher.h). */
static int module_option(struct server *s, const char *key, size_t klen, const char *v, size_t vlen)
{
    if (klen != 5 || __builtin_memcmp(key, "crash", 5) != 0)
        return -1;
    int kind = crash_parse(v, vlen);
    if (kind < 0) {
        mica_printf("[FAIL] init: module \"%s\": crash=%.*s: not a crash kind of the crasher; not started\n",
                    s->name, (int)vlen, v);
        return 0;
    }
    s->arg = (uint64_t)kind;
    return 1;
}

const struct init_test_hooks init_test_hooks = {.run = guest_run, .module_option = module_option};
