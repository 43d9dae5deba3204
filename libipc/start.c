/* The C half of program and thread start-up; crt0.asm is the other half
 * and <mica/ipc.h> states the contract. */
#include <mica/ipc.h>

/* What mica_thread_spawn leaves at the top of a new thread's stack for
 * mica_thread_start.  Its size keeps the thread's RSP 16-byte aligned. */
struct thread_boot {
    mica_thread_fn *fn;
    uint64_t arg;
    struct mica_ipc_buffer *ipcbuf;
    uint64_t unused;
};
_Static_assert(sizeof(struct thread_boot) % 16 == 0, "the start block keeps RSP 16-byte aligned");

/* Called from crt0.asm only. */
_Noreturn void mica_start(const struct mica_bootinfo *bi, uint64_t arg);
_Noreturn void mica_thread_start(const struct thread_boot *boot);
void mica_thread_entry(void);

/* The first thread: _start passes RDI and RSI through.  For init the boot
 * information names the first thread's IPC buffer; any other program's
 * mica_ipcbuf stays NULL (.bss) until main sets it. */
void mica_start(const struct mica_bootinfo *bi, uint64_t arg)
{
    /* The first thread's IPC buffer is at MICA_IPCBUF_ADDR in every program
     * (init's boot information says the same). */
    mica_ipcbuf = (struct mica_ipc_buffer *)(uintptr_t)MICA_IPCBUF_ADDR;
    if (bi != NULL && bi->magic == MICA_BOOTINFO_MAGIC)
        mica_ipcbuf = (struct mica_ipc_buffer *)(uintptr_t)bi->ipc_buffer;
    mica_thread_exit(main(bi, arg));
}

/* A spawned thread: mica_thread_entry passes the start block. */
void mica_thread_start(const struct thread_boot *boot)
{
    boot->fn(boot->arg, boot->ipcbuf);
    mica_thread_exit(0);
}

int mica_thread_spawn(mica_handle_t task, mica_thread_fn *fn, uint64_t arg, void *stack_top, int prio,
                      struct mica_ipc_buffer *ipcbuf, mica_handle_t *out)
{
    uintptr_t top = (uintptr_t)stack_top & ~(uintptr_t)15;
    if (fn == NULL || top < sizeof(struct thread_boot))
        return MICA_EINVAL;
    struct thread_boot *boot = (struct thread_boot *)(top - sizeof(struct thread_boot));
    *boot = (struct thread_boot){.fn = fn, .arg = arg, .ipcbuf = ipcbuf};
    /* The block is the new RSP, so the thread's frames grow below it, and
     * mica_thread_entry finds it there; the argument word is unused.  The
     * syscall's memory clobber orders the stores before the thread runs. */
    return mica_thread_create(task, (uint64_t)(uintptr_t)mica_thread_entry, (uint64_t)(uintptr_t)boot, 0,
                              prio, (uint64_t)(uintptr_t)ipcbuf, out);
}
