/* init: the first task.  Today it checks its boot information, reports
 * what the kernel gave it, and runs the user-space test suites the kernel
 * command line selects (test=ipc) or the benchmarks (bench=ipc).  Starting
 * servers from the other modules is issue #5. */
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
    if (cmdline_selects("test", "ipc")) {
        failed += ipc_suite_run();
        ran = true;
    }
    if (cmdline_selects("bench", "ipc")) {
        bench_run();
        ran = true;
    }
    if (ran)
        mica_debug_shutdown(failed != 0);
    mica_puts("[ OK ] init: ready (no servers to start yet)");
    for (;;)
        mica_sleep_us(1000000);
}
