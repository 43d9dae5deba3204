/* kmain: the kernel's first C function, called by the boot stub on the
 * higher-half boot stack with the multiboot2 magic, the physical address of
 * the boot information, and whether 5-level paging was switched on. */
#include <stddef.h>

#include "base/cmdline.h"
#include "base/str.h"
#include "boot/multiboot2.h"
#include "mica/arch.h"
#include "mica/bochs.h"
#include "mica/bootmem.h"
#include "mica/kernel.h"
#include "mica/ksym.h"
#include "mica/ktest.h"
#include "mica/log.h"
#include "mica/object.h"
#include "mica/panic.h"
#include "mica/pool.h"
#include "mica/sched.h"
#include "mica/screen.h"
#include "mica/space.h"

bool kernel_test_mode;
unsigned kernel_breaks;
const char *kernel_cmdline = "";
uint64_t boot_info_phys;
struct mb2_info boot_info;

void kmain(uint32_t magic, uint32_t info_phys, uint32_t la57);

/* Stop the boot for a reason outside the kernel (bad boot information):
 * a [FAIL] line, no register dump, since no kernel bug is involved. */
static __attribute__((noreturn)) void boot_stop(void)
{
    LOG_FAIL("boot stopped");
    if (kernel_test_mode)
        arch_emulator_exit(EXIT_FAILURE_CODE);
    arch_halt_forever();
}

/* break=init,pager-fault,user-fault: where to stop in Bochs (docs/debugging.md). */
static void parse_breaks(void)
{
    static const struct {
        const char *word;
        unsigned bit;
    } points[] = {{"init", BREAK_INIT}, {"pager-fault", BREAK_PAGER_FAULT}, {"user-fault", BREAK_USER_FAULT}};
    const char *v;
    size_t len;
    if (!str_word_value(kernel_cmdline, "break", &v, &len))
        return;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && v[j] != ',')
            j++;
        for (unsigned k = 0; k < sizeof points / sizeof points[0]; k++)
            if (str_nlen(points[k].word, 32) == j - i && __builtin_memcmp(points[k].word, v + i, j - i) == 0)
                kernel_breaks |= points[k].bit;
        i = j + 1;
    }
    LOG_INFO("break: Bochs magic breakpoints at 0x%x (1 init, 2 first fault to a pager, 4 every user fault)",
             kernel_breaks);
}

/* One [WARN] line for a command-line word the table refuses; true when
 * the word is a bad test= (a run that asked for tests must not pass
 * without running them). */
static bool warn_word(const char *w, size_t len)
{
    const struct cmdline_word *e;
    const char *bad;
    size_t blen;
    char accepted[160];
    switch (cmdline_check(kernel_cmdline, w, len, &e, &bad, &blen)) {
    case CMDLINE_OK:
        return false;
    case CMDLINE_UNKNOWN:
        LOG_WARN("command line: unknown word \"%.*s\" ignored (docs/boot.md lists the words)", (int)len, w);
        return false;
    case CMDLINE_TWICE:
        LOG_WARN("command line: \"%.*s\" repeats %s= and is ignored (the first one counts)", (int)len, w,
                 e->key);
        return false;
    case CMDLINE_BAD_VALUE:
        cmdline_describe(e, accepted, sizeof accepted);
        LOG_WARN("command line: \"%.*s\": \"%.*s\" is not accepted (%s= takes %s); %s", (int)len, w,
                 (int)blen, bad, e->key, accepted,
                 str_eq(e->key, "test")    ? "the boot stops"
                 : e->kind == CMDLINE_LIST ? "that item is ignored"
                                           : "the word is ignored");
        return str_eq(e->key, "test");
    }
    return false;
}

/* Check every word of the command line against the table of known words
 * (libbase/cmdline.c); a bad test= stops the boot with the failure status. */
static void check_cmdline(void)
{
    size_t pos = 0, len;
    const char *w;
    bool bad_test = false;
    while (cmdline_next(kernel_cmdline, &pos, &w, &len))
        bad_test |= warn_word(w, len);
    if (bad_test) {
        LOG_FAIL("test: test= names an unknown suite; nothing is run");
        boot_stop();
    }
}

/* Parse the boot information, log every tag it had to distrust, and read
 * and check the command line (test mode, break=, unknown words). */
static void read_boot_info(uint32_t info_phys)
{
    boot_info_phys = info_phys;
    /* The boot stub's direct map covers the first 4 GiB, where GRUB puts
     * the information (it passes a 32-bit address). */
    size_t avail = (size_t)((4ull << 30) - info_phys);
    if (mb2_parse(phys_to_virt(info_phys), avail, &boot_info) != 0) {
        LOG_FAIL("multiboot2: the boot information header at 0x%x is unusable", info_phys);
        boot_stop();
    }
    if (boot_info.cmdline)
        kernel_cmdline = boot_info.cmdline;
    const char *v;
    size_t n;
    kernel_test_mode = str_word_value(kernel_cmdline, "test", &v, &n);
    parse_breaks();
    for (size_t i = 0; i < boot_info.ndiags; i++)
        LOG_WARN("multiboot2: tag type %u at offset 0x%x: %s, skipped", boot_info.diags[i].tag_type,
                 boot_info.diags[i].offset, mb2_diag_name(boot_info.diags[i].kind));
    if (boot_info.ndiags_total > boot_info.ndiags)
        LOG_WARN("multiboot2: %zu more diagnostics not shown", boot_info.ndiags_total - boot_info.ndiags);
    LOG_INFO("multiboot2: %u bytes at 0x%x from \"%s\", %zu modules, %zu memory map entries",
             boot_info.total_size, info_phys, boot_info.loader_name ? boot_info.loader_name : "?",
             boot_info.nmodules, boot_info.nmmap);
    LOG_INFO("command line: \"%s\"", kernel_cmdline);
    check_cmdline();
}

/* Log the rest of what the boot loader told us. */
static void log_boot_extras(void)
{
    for (size_t i = 0; i < boot_info.nmodules; i++)
        LOG_INFO("module %zu: [0x%llx, 0x%llx) \"%s\"", i, (unsigned long long)boot_info.modules[i].start,
                 (unsigned long long)boot_info.modules[i].end, boot_info.modules[i].string);
    if (boot_info.have_framebuffer)
        LOG_INFO("framebuffer: %ux%u, %u bpp, pitch %u, at 0x%llx", boot_info.fb.width, boot_info.fb.height,
                 boot_info.fb.bpp, boot_info.fb.pitch, (unsigned long long)boot_info.fb.addr);
    LOG_INFO("ACPI: RSDP %s%s", boot_info.rsdp_new ? "v2 (XSDT) " : "",
             boot_info.rsdp_old ? "v1 (RSDT)" : (boot_info.rsdp_new ? "" : "none"));
    if (boot_info.efi_mmap)
        LOG_INFO("EFI memory map: %u descriptors of %u bytes", boot_info.efi_ndesc, boot_info.efi_desc_size);
    if (boot_info.have_load_base)
        LOG_INFO("load base: 0x%x", boot_info.load_base);
}

/* Pool size: a sixteenth of free memory, between 2 and 64 MiB. */
static uint64_t pool_bytes(void)
{
    uint64_t b = (pm_total(bootmem_free()) / 16) & ~(uint64_t)(PAGE_SIZE - 1);
    if (b < (2ull << 20))
        b = 2ull << 20;
    return b > (64ull << 20) ? (64ull << 20) : b;
}

/* The core: system calls, the object pool, the scheduler and its timer. */
static void core_init(void)
{
    arch_syscall_init();
    uint64_t bytes = pool_bytes();
    if (pool_init(bytes) != 0) {
        LOG_FAIL("pool: cannot carve %llu KiB for kernel objects", (unsigned long long)(bytes >> 10));
        boot_stop();
    }
    uint64_t pb, pe;
    pool_range(&pb, &pe);
    LOG_OK("pool: %llu KiB for kernel objects at [0x%llx, 0x%llx)", (unsigned long long)(bytes >> 10),
           (unsigned long long)pb, (unsigned long long)pe);
    object_init();
    space_init();
    arch_fpu_init();
    sched_init();
    arch_timer_init();
    LOG_OK("system calls: SYSCALL/SYSRET, %d calls; user half below 0x%llx", SYS_COUNT,
           (unsigned long long)user_top);
}

/* Build and check physical memory and the kernel's page tables. */
static void memory_init(void)
{
    if (bootmem_init(&boot_info, boot_info_phys) != 0)
        boot_stop();
    unsigned bad = bootmem_verify(arch_boot_root());
    if (bad)
        PANIC("%u in-use ranges of the boot page tables are in the free set", bad);
    arch_paging_init(bootmem_ram(), bootmem_alloc_page);
    /* The boot stub's map is gone: nothing may log before the screen has
     * its own mapping. */
    screen_map(bootmem_alloc_page);
    bad = bootmem_verify(arch_kernel_root());
    if (bad)
        PANIC("%u in-use ranges of the kernel page tables are in the free set", bad);
    LOG_OK("memory: no page-table frame, boot information, module or kernel byte is in the free set");
    if (!arch_direct_map_check(bootmem_ram()))
        PANIC("the direct map misses RAM");
}

/* The least free memory Mica runs with: measured, QEMU -m 5M boots to
 * ready but leaves the pager no frame to hand out, -m 6M (4.4 MiB free
 * here) runs init, the pager and the servers test; -m 4M cannot start the
 * pager.  docs/boot.md keeps the figures. */
#define MIN_FREE_BYTES (4ull << 20)
#define MIN_RAM_MIB 6

/* Stop now, with the reason, if init and the pager could not both run. */
static void check_min_memory(void)
{
    uint64_t free = pm_total(bootmem_free());
    if (free >= MIN_FREE_BYTES)
        return;
    LOG_FAIL("memory: %llu KiB free after sanitizing; Mica needs %llu KiB free, about %u MiB of RAM",
             (unsigned long long)(free >> 10), (unsigned long long)(MIN_FREE_BYTES >> 10), MIN_RAM_MIB);
    boot_stop();
}

uint64_t kernel_entry_tsc;

void kmain(uint32_t magic, uint32_t info_phys, uint32_t la57)
{
    kernel_entry_tsc = arch_timestamp();
    arch_console_init();
    arch_cpu_init(la57 ? 5 : 4);
    LOG_INFO("Mica %s on %s CPU; multiboot2 magic 0x%x", MICA_VERSION, arch_cpu_vendor(), magic);
    read_boot_info(info_phys);
    screen_init(&boot_info);
    arch_log_paging(str_has_word(kernel_cmdline, "paging=4"));
    unsigned long nsym = ksym_init(&boot_info);
    if (nsym)
        LOG_OK("symbols: %lu functions from the ELF sections tag", nsym);
    else
        LOG_WARN("symbols: none (no usable .symtab in the ELF sections tag); dumps show raw addresses");
    log_boot_extras();
    memory_init();
    arch_protect();
    bootmem_print(&boot_info);
    check_min_memory();
    arch_log_tables();

    core_init();

    const char *spec;
    size_t len;
    if (str_word_value(kernel_cmdline, "test", &spec, &len)) {
        if (len > 6 && __builtin_memcmp(spec, "fault:", 6) == 0) {
            if (!ktest_fault(spec + 6, len - 6))
                LOG_FAIL("test: unknown fault kind \"%.*s\"", (int)(len - 6), spec + 6);
            arch_emulator_exit(EXIT_FAILURE_CODE);
        }
        unsigned failed = ktest_run(spec, len);
        if (failed != KTEST_NONE)
            arch_emulator_exit(failed ? EXIT_FAILURE_CODE : EXIT_SUCCESS_CODE);
    }
    if (init_task_create() == NULL)
        boot_stop();
    if (kernel_breaks & BREAK_INIT)
        BOCHS_BREAK(); /* next: sched_exit returns to init's first instruction */
    sched_exit();
}
