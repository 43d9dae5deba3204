/* init: the first task.  It checks its boot information, starts the pager
 * (the "pager" module) and hands it every free frame, starts every other
 * module as a server (servers.c), runs the user-space test suites the
 * kernel command line selects (test=ipc,pager,servers,hostile,sysfuzz) or the
 * benchmarks (bench=ipc), and then serves the name service for good. */
#include <mica/ipc.h>

#include "base/str.h"
#include "init.h"

const struct mica_bootinfo *bootinfo;

/* True when the kernel command line selects `suite` in test= or bench=. */
static bool cmdline_selects(const char *key, const char *suite)
{
    const char *v;
    size_t len;
    if (!str_word_value(bootinfo->cmdline, key, &v, &len))
        return false;
    size_t n = str_nlen(suite, 64);
    for (size_t i = 0; i + n <= len; i++)
        if ((i == 0 || v[i - 1] == ',') && (i + n == len || v[i + n] == ',') &&
            __builtin_memcmp(v + i, suite, n) == 0)
            return true;
    return false;
}

/* The number after `key=` on the kernel command line, or `dflt`. */
static uint64_t cmdline_number(const char *key, uint64_t dflt)
{
    const char *v;
    size_t len;
    uint64_t n;
    if (str_word_value(bootinfo->cmdline, key, &v, &len) && str_parse_u64(v, len, &n))
        return n;
    return dflt;
}

/* End the run after a [FAIL] that leaves the system unable to work: say so
 * once and shut down with the failure status (never claim ready). */
static _Noreturn void init_stop(void)
{
    mica_puts("[FAIL] init: the system cannot go on; shutting down");
    mica_debug_shutdown(1);
    for (;;)
        mica_sleep_us(1000000); /* only if the kernel refused: nothing more to say */
}

/* Init's own module (module 0, which the kernel started): its line takes
 * only sha1=, and its digest is logged and checked like any module's. */
static bool check_self(void)
{
    struct server self;
    if (bootinfo->nmodules == 0) {
        mica_puts("[FAIL] init: the boot information lists no modules");
        return false;
    }
    return module_parse(&self, &bootinfo->modules[0], MODULE_INIT) && module_check_integrity(&self);
}

int main(const struct mica_bootinfo *bi, uint64_t arg)
{
    (void)arg;
    if (bi == NULL || bi->magic != MICA_BOOTINFO_MAGIC) {
        mica_puts("[FAIL] init: no boot information");
        return 1;
    }
    bootinfo = bi;
    uint64_t free_bytes = 0;
    for (uint64_t i = 0; i < bi->nranges; i++)
        free_bytes += bi->ranges[i].size;
    mica_printf("[ OK ] init: running in ring 3; %u-level paging, %llu modules, %llu MiB of free memory in "
                "%llu ranges\n",
                bi->paging_levels, (unsigned long long)bi->nmodules, (unsigned long long)(free_bytes >> 20),
                (unsigned long long)bi->nranges);
    int failed = 0;
    bool ran = false;
    if (!check_self() || !pager_start())
        init_stop();
    int refused = servers_start_all();
    if (cmdline_selects("test", "servers")) {
        /* A thread of ours checks, while this one serves the names. */
        if (servers_suite_run() != 0)
            mica_debug_shutdown(1);
        servers_serve();
    }
    if (cmdline_selects("test", "runtime")) {
        if (runtime_suite_run() != 0)
            mica_debug_shutdown(1);
        servers_serve();
    }
    if (cmdline_selects("test", "pager")) {
        failed += pager_suite_run();
        ran = true;
    }
    if (cmdline_selects("test", "ipc")) {
        failed += ipc_suite_run();
        ran = true;
    }
    if (cmdline_selects("test", "hostile")) {
        failed += hostile_suite_run();
        ran = true;
    }
    if (cmdline_selects("test", "sysfuzz")) {
        failed += sysfuzz_run(cmdline_number("fuzzseed", 1), cmdline_number("fuzzcalls", 20000));
        ran = true;
    }
    if (cmdline_selects("bench", "ipc")) {
        bench_run();
        ran = true;
    }
    if (ran)
        mica_debug_shutdown(failed != 0);
    if (refused)
        mica_printf(
            "[WARN] init: up, but %d modules were refused or did not start (the [FAIL] lines above)\n",
            refused);
    else
        mica_puts("[ OK ] init: ready");
    servers_serve();
}
