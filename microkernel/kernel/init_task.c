/* The first user task: init, from the first multiboot2 module.
 *
 * The kernel validates the ELF image (libbase/elf.c), builds init's address
 * space from frames taken out of the free set, maps the boot-information
 * pages, the modules (read-only) and an IPC buffer, and finally hands all
 * remaining free memory to init as a read-write window.  After that the
 * kernel never takes another frame from the free set.  A malformed image is
 * reported on serial and not executed. */
#include <stddef.h>

#include "base/elf.h"
#include "base/str.h"
#include "boot/multiboot2.h"
#include "mica/abi.h"
#include "mica/arch.h"
#include "mica/bootmem.h"
#include "mica/kernel.h"
#include "mica/layout.h"
#include "mica/log.h"
#include "mica/object.h"
#include "mica/panic.h"
#include "mica/pool.h"
#include "mica/space.h"

/* init's fixed layout is the user map of mica/layout.h: in that order,
 * apart, and all below the 4-level user top, so one map serves both modes. */
_Static_assert(MICA_IMAGE_BASE < MICA_WINDOW_BASE && MICA_WINDOW_BASE < PAGER_VM_BASE &&
                   PAGER_VM_BASE < MICA_IMAGE_TOP && MICA_IMAGE_TOP <= MICA_MODULES_BASE,
               "user layout: image, window, pager regions, modules");
_Static_assert(MICA_MODULES_BASE < MICA_STACK_TOP - MICA_STACK_PAGES * PAGE_SIZE &&
                   MICA_STACK_TOP < MICA_IPCBUF_ADDR && MICA_IPCBUF_ADDR < MICA_BOOTINFO_ADDR &&
                   MICA_BOOTINFO_ADDR + PAGE_SIZE <= 0x800000000000,
               "user layout: modules, stack, IPC buffer, boot information, below the 4-level top");

static struct task *init;

/* A zeroed frame from the free set, for init's image, stack and info; 0
 * when none is left. */
static uint64_t take_frame(void)
{
    uint64_t pa;
    if (pm_take((struct pm_set *)bootmem_free(), PAGE_SIZE, PAGE_SIZE, 1ull << 20, PM_PHYS_LIMIT, &pa) !=
        PM_OK)
        return 0;
    uint64_t *p = phys_to_virt(pa);
    for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
        p[i] = 0;
    return pa;
}

/* Map `pages` fresh zeroed frames at va with rights; false if out of memory. */
static bool map_fresh(uint64_t va, uint64_t pages, uint32_t rights)
{
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t pa = take_frame();
        if (pa == 0 || space_map_page(init, va + i * PAGE_SIZE, pa, rights) != MICA_OK)
            return false;
    }
    return true;
}

/* Copy len bytes into init's memory at va, already mapped (by map_fresh,
 * or read-only by map_bootinfo: the copy goes through the direct map). */
static void poke(uint64_t va, const uint8_t *src, uint64_t len)
{
    while (len > 0) {
        uint64_t pa;
        uint32_t rights;
        ASSERT(space_lookup(init, va, &pa, &rights));
        uint64_t n = PAGE_SIZE - (va & (PAGE_SIZE - 1));
        if (n > len)
            n = len;
        uint8_t *dst = phys_to_virt(pa);
        for (uint64_t i = 0; i < n; i++)
            dst[i] = src[i];
        va += n;
        src += n;
        len -= n;
    }
}

/* Load the validated segments of img from file into init. */
static bool load_segments(const struct elf_image *img, const uint8_t *file)
{
    for (unsigned i = 0; i < img->nsegments; i++) {
        const struct elf_segment *s = &img->seg[i];
        uint64_t start = s->vaddr & ~(uint64_t)(PAGE_SIZE - 1);
        uint64_t end = (s->vaddr + s->memsz + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
        uint32_t rights = MICA_MAP_READ | ((s->flags & ELF_PF_W) ? MICA_MAP_WRITE : 0) |
                          ((s->flags & ELF_PF_X) ? MICA_MAP_EXEC : 0);
        if (!map_fresh(start, (end - start) / PAGE_SIZE, rights))
            return false;
        poke(s->vaddr, file + s->offset, s->filesz);
    }
    return true;
}

/* Map every module read-only into init and describe them in bi. */
static bool map_modules(struct mica_bootinfo *bi)
{
    uint64_t va = MICA_MODULES_BASE;
    for (size_t i = 0; i < boot_info.nmodules && i < MICA_BOOTINFO_MAX_MODULES; i++) {
        const struct mb2_module *m = &boot_info.modules[i];
        uint64_t first = m->start & ~(uint64_t)(PAGE_SIZE - 1);
        uint64_t pages = (m->end - first + PAGE_SIZE - 1) / PAGE_SIZE;
        struct mica_bootinfo_module *bm = &bi->modules[bi->nmodules++];
        bm->phys = m->start;
        bm->size = m->end - m->start;
        size_t n = str_nlen(m->string, sizeof bm->cmdline - 1);
        for (size_t k = 0; k < n; k++)
            bm->cmdline[k] = m->string[k];
        if (pages == 0)
            continue;
        for (uint64_t p = 0; p < pages; p++)
            if (space_map_page(init, va + p * PAGE_SIZE, first + p * PAGE_SIZE, MICA_MAP_READ) != MICA_OK)
                return false;
        bm->vaddr = va + (m->start - first);
        va += (pages + 1) * PAGE_SIZE; /* a guard page between modules */
    }
    return true;
}

/* Hand the free set to init: each range, up to MICA_BOOTINFO_MAX_RANGES of
 * them and below what the window can show, mapped read-write at
 * MICA_WINDOW_BASE + phys (2 MiB pages where they fit) and listed in bi;
 * then the kernel takes no frame from the free set again. */
static bool map_window(struct mica_bootinfo *bi)
{
    const struct pm_set *f = bootmem_free();
    bi->mem_window = MICA_WINDOW_BASE;
    for (size_t i = 0; i < f->n && bi->nranges < MICA_BOOTINFO_MAX_RANGES; i++) {
        uint64_t pa = f->r[i].base, end = f->r[i].end;
        if (MICA_WINDOW_BASE + end > MICA_MODULES_BASE)
            break; /* beyond what the window can show (over 100 TiB) */
        bi->ranges[bi->nranges].phys = pa;
        bi->ranges[bi->nranges].size = end - pa;
        bi->ranges[bi->nranges].vaddr = MICA_WINDOW_BASE + pa;
        bi->nranges++;
        /* Read-write, and the right to grant execution on (the pager
         * hands these frames out for every kind of mapping). */
        if (space_map_frames(init, MICA_WINDOW_BASE + pa, pa, end - pa,
                             MICA_MAP_READ | MICA_MAP_WRITE | MICA_MAP_EXEC) != MICA_OK)
            return false;
    }
    bootmem_hand_over();
    return true;
}

/* Map the boot-information pages read-only (filled in last, by poke). */
static bool map_bootinfo(void)
{
    uint64_t pages = (sizeof(struct mica_bootinfo) + PAGE_SIZE - 1) / PAGE_SIZE;
    for (uint64_t p = 0; p < pages; p++) {
        uint64_t pa = take_frame();
        if (pa == 0 || space_map_page(init, MICA_BOOTINFO_ADDR + p * PAGE_SIZE, pa, MICA_MAP_READ) != MICA_OK)
            return false;
    }
    return true;
}

static struct mica_bootinfo bootinfo;

struct thread *init_task_create(void)
{
    if (boot_info.nmodules == 0) {
        LOG_WARN("init: no multiboot2 module; nothing to run");
        return NULL;
    }
    const struct mb2_module *m = &boot_info.modules[0];
    /* Its name says the module list is in the right order: started as
     * init, the pager (or any server) would only fail in odd ways. */
    size_t nlen = str_nlen(m->string, 5);
    if (nlen < 4 || __builtin_memcmp(m->string, "init", 4) != 0 || (nlen == 5 && m->string[4] != ' ')) {
        LOG_FAIL("init: the first module must be init, named \"init\" (its line is \"%s\"); not started",
                 m->string);
        return NULL;
    }
    const uint8_t *file = phys_to_virt(m->start);
    struct elf_image img;
    int err = elf_parse(file, m->end - m->start, PAGE_SIZE, MICA_IMAGE_TOP, &img);
    if (err != ELF_OK) {
        LOG_FAIL("init: module \"%s\" is not a loadable ELF64 program: %s; not started", m->string,
                 elf_strerror(err));
        return NULL;
    }
    init = task_create("init", &kmem_kernel, UINT64_MAX); /* all the pool: the root of the quotas */
    if (init == NULL)
        PANIC("no pool memory for the first task");
    struct mica_bootinfo *bi = &bootinfo;
    bi->magic = MICA_BOOTINFO_MAGIC;
    bi->version = 1;
    bi->paging_levels = arch_paging_levels();
    bi->user_top = user_top;
    bi->ipc_buffer = MICA_IPCBUF_ADDR;
    bi->stack_top = MICA_STACK_TOP;
    bi->kernel_entry_tsc = kernel_entry_tsc;
    size_t n = str_nlen(kernel_cmdline, sizeof bi->cmdline - 1);
    for (size_t i = 0; i < n; i++)
        bi->cmdline[i] = kernel_cmdline[i];
    if (!load_segments(&img, file) ||
        !map_fresh(MICA_STACK_TOP - MICA_STACK_PAGES * PAGE_SIZE, MICA_STACK_PAGES,
                   MICA_MAP_READ | MICA_MAP_WRITE) ||
        !map_fresh(MICA_IPCBUF_ADDR, 1, MICA_MAP_READ | MICA_MAP_WRITE) || !map_modules(bi))
        PANIC("out of memory building the first task");
    struct thread *th = thread_create(init, img.entry, MICA_STACK_TOP, MICA_BOOTINFO_ADDR, 0, MICA_PRIO_MAX,
                                      MICA_IPCBUF_ADDR);
    if (th == NULL)
        PANIC("no pool memory for the first thread");
    bi->self_task = handle_install(init, &init->hdr, MICA_R_ALL, 0);
    bi->self_thread = handle_install(init, &th->hdr, MICA_R_ALL, 0);
    /* Every frame init needs is taken before the rest goes to the window. */
    if (!map_bootinfo() || !map_window(bi))
        PANIC("out of memory building the first task");
    poke(MICA_BOOTINFO_ADDR, (const uint8_t *)bi, sizeof *bi);
    LOG_OK("init: \"%s\" loaded, %u segments, entry 0x%llx; %llu free ranges handed over at 0x%llx",
           m->string, img.nsegments, (unsigned long long)img.entry, (unsigned long long)bi->nranges,
           (unsigned long long)bi->mem_window);
    return th;
}
