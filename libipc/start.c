/* The C half of program and thread start-up; crt0.asm is the other half
 * and <mica/ipc.h> states the contract. */
#include <mica/ipc.h>
#include <mica/start.h>

/* What mica_thread_spawn leaves at the top of a new thread's stack for
 * mica_thread_start.  Its size keeps the thread's RSP 16-byte aligned. */
struct thread_boot {
    mica_thread_fn *fn;
    uint64_t arg;
    struct mica_ipc_buffer *ipcbuf;
    uint64_t done; /* a notification to signal when fn returns, or 0 */
};
_Static_assert(sizeof(struct thread_boot) % 16 == 0, "the start block keeps RSP 16-byte aligned");

/* Called from crt0.asm only. */
_Noreturn void mica_start(const struct mica_bootinfo *bi, uint64_t arg);
_Noreturn void mica_thread_start(const struct thread_boot *boot);
void mica_thread_entry(void);

/* The start-up record init gave this server, or NULL (<mica/start.h>). */
static const struct mica_start *start_record;

const struct mica_start *mica_start_info(void)
{
    return start_record;
}

/* The first thread: _start passes RDI and RSI through.  For init the boot
 * information names the first thread's IPC buffer; every other program's
 * is at MICA_IPCBUF_ADDR.  A server started by init gets RSI =
 * MICA_START_ADDR, where init mapped its start-up record; main then gets
 * the record's argument word instead. */
void mica_start(const struct mica_bootinfo *bi, uint64_t arg)
{
    /* The first thread's IPC buffer is at MICA_IPCBUF_ADDR in every program
     * (init's boot information says the same). */
    mica_ipcbuf = (struct mica_ipc_buffer *)(uintptr_t)MICA_IPCBUF_ADDR;
    if (bi != NULL && bi->magic == MICA_BOOTINFO_MAGIC)
        mica_ipcbuf = (struct mica_ipc_buffer *)(uintptr_t)bi->ipc_buffer;
    if (bi == NULL && arg == MICA_START_ADDR) {
        const struct mica_start *rec = (const struct mica_start *)(uintptr_t)MICA_START_ADDR;
        if (rec->magic == MICA_START_MAGIC && rec->version == MICA_START_VERSION) {
            start_record = rec;
            arg = rec->arg;
        }
    }
    mica_thread_exit(main(bi, arg));
}

/* Signal `done` and end the thread without touching the stack again:
 * the moment the signal is out, a joiner may give the stack back. */
static _Noreturn void finish(uint64_t done)
{
    __asm__ volatile("syscall\n\t"
                     "mov %[exit], %%eax\n\t"
                     "xor %%edi, %%edi\n\t"
                     "syscall\n\t"
                     "ud2"
                     :
                     : "a"((uint64_t)SYS_NOTIFY_SIGNAL), "D"(done), "S"(1ull), [exit] "i"(SYS_THREAD_EXIT)
                     : "rcx", "r11", "memory");
    __builtin_unreachable();
}

/* A spawned thread: mica_thread_entry passes the start block. */
void mica_thread_start(const struct thread_boot *boot)
{
    boot->fn(boot->arg, boot->ipcbuf);
    uint64_t done = boot->done;
    if (done != 0)
        finish(done);
    mica_thread_exit(0);
}

int mica_thread_spawn_signal(mica_handle_t task, mica_thread_fn *fn, uint64_t arg, void *stack_top, int prio,
                             struct mica_ipc_buffer *ipcbuf, mica_handle_t done, mica_handle_t *out)
{
    uintptr_t top = (uintptr_t)stack_top & ~(uintptr_t)15;
    if (fn == NULL || top < sizeof(struct thread_boot))
        return MICA_EINVAL;
    struct thread_boot *boot = (struct thread_boot *)(top - sizeof(struct thread_boot));
    *boot = (struct thread_boot){.fn = fn, .arg = arg, .ipcbuf = ipcbuf, .done = done};
    /* The block is the new RSP, so the thread's frames grow below it, and
     * mica_thread_entry finds it there; the argument word is unused.  The
     * syscall's memory clobber orders the stores before the thread runs. */
    return mica_thread_create(task, (uint64_t)(uintptr_t)mica_thread_entry, (uint64_t)(uintptr_t)boot, 0,
                              prio, (uint64_t)(uintptr_t)ipcbuf, out);
}

int mica_thread_spawn(mica_handle_t task, mica_thread_fn *fn, uint64_t arg, void *stack_top, int prio,
                      struct mica_ipc_buffer *ipcbuf, mica_handle_t *out)
{
    return mica_thread_spawn_signal(task, fn, arg, stack_top, prio, ipcbuf, 0, out);
}
