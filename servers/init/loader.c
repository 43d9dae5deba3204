/* init's program loader: a GRUB module (mapped read-only in init's space)
 * becomes a new task.  The ELF image is validated by libbase/elf.c (the
 * same code the kernel uses for init); a bad image is refused with a clear
 * message and the rest of the system goes on.  Each segment is copied into
 * fresh pages of init's, which are then mapped into the task with the
 * segment's rights; the task gets a stack and an IPC buffer at the
 * conventional address, one handle from init, and its first thread. */
#include "base/elf.h"
#include "base/status.h"
#include "base/str.h"
#include "init.h"
#include <mica/layout.h>

const struct mica_bootinfo_module *find_module(const char *name)
{
    for (uint64_t i = 0; i < bootinfo->nmodules; i++) {
        const char *cl = bootinfo->modules[i].cmdline;
        size_t n = str_nlen(name, 64);
        if (__builtin_memcmp(cl, name, n) == 0 && (cl[n] == '\0' || cl[n] == ' '))
            return &bootinfo->modules[i];
    }
    return NULL;
}

/* Copy and map one validated segment of `file` into task. */
static int load_segment(mica_handle_t task, const uint8_t *file, const struct elf_segment *s)
{
    uint64_t start = s->vaddr & ~(MICA_PAGE_SIZE - 1);
    uint64_t pages = (s->vaddr + s->memsz - start + MICA_PAGE_SIZE - 1) / MICA_PAGE_SIZE;
    uint8_t *mem = page_alloc(pages);
    if (mem == NULL)
        return MICA_ENOMEM;
    for (uint64_t i = 0; i < s->filesz; i++)
        mem[s->vaddr - start + i] = file[s->offset + i];
    uint32_t rights = MICA_MAP_READ | ((s->flags & ELF_PF_W) ? MICA_MAP_WRITE : 0) |
                      ((s->flags & ELF_PF_X) ? MICA_MAP_EXEC : 0);
    return mica_map(task, (uint64_t)(uintptr_t)mem, start, pages, rights);
}

int load_program(const struct mica_bootinfo_module *mod, uint64_t kmem, mica_handle_t *task_out,
                 uint64_t *entry)
{
    const uint8_t *file = (const uint8_t *)(uintptr_t)mod->vaddr;
    struct elf_image img;
    int err = mod->vaddr ? elf_parse(file, mod->size, MICA_PAGE_SIZE, MICA_IMAGE_TOP, &img) : ELF_ESHORT;
    if (err != ELF_OK) {
        mica_printf("[FAIL] init: module \"%s\" refused: %s\n", mod->cmdline, elf_strerror(err));
        return MICA_EINVAL;
    }
    mica_handle_t task = 0;
    int st = mica_task_create_kmem(kmem, &task);
    for (unsigned i = 0; st == MICA_OK && i < img.nsegments; i++)
        st = load_segment(task, file, &img.seg[i]);
    if (st != MICA_OK) {
        mica_printf("[FAIL] init: cannot load \"%s\": %s\n", mod->cmdline, status_name(st));
        if (task) {
            mica_task_kill(task);
            mica_handle_close(task);
        }
        return st;
    }
    *task_out = task;
    *entry = img.entry;
    return MICA_OK;
}

int run_program(mica_handle_t task, uint64_t entry, int prio, uint64_t arg, uint64_t stack_top,
                mica_handle_t *thread_out)
{
    char *ipcbuf = page_alloc(1);
    int st = ipcbuf ? MICA_OK : MICA_ENOMEM;
    if (st == MICA_OK && stack_top == 0) {
        char *stack = page_alloc(MICA_STACK_PAGES);
        st = stack ? mica_map(task, (uint64_t)(uintptr_t)stack,
                              MICA_STACK_TOP - MICA_STACK_PAGES * MICA_PAGE_SIZE, MICA_STACK_PAGES,
                              MICA_MAP_READ | MICA_MAP_WRITE)
                   : MICA_ENOMEM;
        stack_top = MICA_STACK_TOP;
    }
    if (st == MICA_OK)
        st = mica_map(task, (uint64_t)(uintptr_t)ipcbuf, MICA_IPCBUF_ADDR, 1, MICA_MAP_READ | MICA_MAP_WRITE);
    if (st == MICA_OK)
        st = mica_thread_create(task, entry, stack_top, arg, prio, MICA_IPCBUF_ADDR, thread_out);
    return st;
}

int start_program(const struct mica_bootinfo_module *mod, uint64_t kmem, int prio, mica_handle_t give,
                  uint32_t rights, uint64_t badge, mica_handle_t *task_out, mica_handle_t *thread_out)
{
    mica_handle_t task = 0, remote = 0;
    uint64_t entry = 0;
    int st = load_program(mod, kmem, &task, &entry);
    if (st != MICA_OK)
        return st;
    if (give != MICA_HANDLE_NONE)
        st = mica_task_give(task, give, rights, badge, &remote);
    if (st == MICA_OK)
        st = run_program(task, entry, prio, remote, 0, thread_out);
    if (st != MICA_OK) {
        mica_printf("[FAIL] init: cannot start \"%s\": %s\n", mod->cmdline, status_name(st));
        mica_task_kill(task);
        mica_handle_close(task);
        return st;
    }
    *task_out = task;
    return MICA_OK;
}
