/* init: the first task, the server manager.  It checks its boot
 * information, starts the pager (the "pager" module) and hands it every
 * free frame, starts every other module as a server (servers.c), and then
 * serves the name service and restarts for good.  The in-guest tests are
 * not here: the test image (test/guest/) links these objects with the
 * suites and runs them through init_test_hooks (init.h). */
#include <mica/ipc.h>

#include "base/str.h"
#include "init.h"

const struct mica_bootinfo *bootinfo;

/* The production init runs no tests: a test= or bench= word that reached
 * it (the kernel runs its own suites and stops before init) asks for the
 * test image.  Say so once and shut down with the failure status. */
static void refuse_tests(void)
{
    const char *v;
    size_t len;
    const char *key = "test";
    if (!str_word_value(bootinfo->cmdline, key, &v, &len)) {
        key = "bench";
        if (!str_word_value(bootinfo->cmdline, key, &v, &len))
            return;
    }
    mica_printf("[FAIL] init: %s=%.*s: this init has no in-guest tests; they are in the test image "
                "(build/init-test.elf, docs/testing.md); shutting down\n",
                key, (int)len, v);
    mica_debug_shutdown(1);
    for (;;)
        mica_sleep_us(1000000); /* only if the kernel refused: nothing more to say */
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
    if (&init_test_hooks == NULL)
        refuse_tests();
    if (!check_self() || !pager_start())
        init_stop();
    int refused = servers_start_all();
    module_kmem_report();
    if (&init_test_hooks != NULL)
        init_test_hooks.run(); /* returns when test= and bench= select nothing */
    if (refused)
        mica_printf(
            "[WARN] init: up, but %d modules were refused or did not start (the [FAIL] lines above)\n",
            refused);
    else
        mica_puts("[ OK ] init: ready");
    servers_serve();
}
