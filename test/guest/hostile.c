/* The ring-0 boundary suite (test=hostile): what a hostile ring-3 program
 * tried against the kernel (issue 16), each kept as a named case.  Every
 * case that must stop a program runs it in a child task and checks how the
 * task ended (SYS_TASK_STATUS) and that its watcher was told; a case that
 * crashed the kernel would end the boot, which the harness sees.
 *
 *   rflags_*          RFLAGS bits a task may set (NT, DF, AC, TF) around
 *                     calls that block and resume other threads by IRETQ
 *   compat_*          a 32-bit code segment: SYSCALL, SYSENTER, INT, far
 *                     calls and segment loads
 *   syscall_at_top_*  SYSCALL in the last two bytes of the user half, for
 *                     every call number, fastpath on and off
 *   fpu_*             x87/SSE/AVX registers: clean at start, private after
 *   straddle_*        buffers over a page end: nothing moves on EFAULT
 *   timeout_*         the largest timeouts do not wrap
 *   last_thread_*     a task ends with its last thread, however it ends */
#include "guest.h"

#define INF MICA_TIMEOUT_INFINITE
#define CHILD_PRIO 40
#define RFLAGS_TF 0x100ull
#define RFLAGS_DF 0x400ull
#define RFLAGS_NT 0x4000ull
#define RFLAGS_AC 0x40000ull
#define VEC_DB 1
#define VEC_UD 6
#define VEC_GP 13

/* ---- code a child runs --------------------------------------------------- */

/* The last page of a child's user half gets this page of init's text: its
 * last four bytes pop the call number and a handle and make the call, so
 * the SYSCALL's return address is the top of the user half itself. */
__asm__(".pushsection .text.hostile_top, \"ax\"\n"
        ".balign 4096\n"
        ".globl hostile_top_page\n"
        "hostile_top_page:\n"
        ".fill 4092, 1, 0xcc\n"
        "pop %rax\n"
        "pop %rdi\n"
        "syscall\n"
        ".popsection\n");

/* 32-bit code, reached by a far jump to the 32-bit user code segment.  The
 * instruction after each probe traps differently, so a probe that "worked"
 * is told apart from one that was refused. */
__asm__(".pushsection .text\n"
        ".code32\n"
        ".globl compat_syscall, compat_sysenter, compat_int80, compat_lcall_tss, compat_load_kernel_ds\n"
        "compat_syscall:\n syscall\n hlt\n"
        "compat_sysenter:\n sysenter\n hlt\n"
        "compat_int80:\n int $0x80\n hlt\n"
        "compat_lcall_tss:\n lcall $0x30, $0\n hlt\n"
        "compat_load_kernel_ds:\n movw $0x10, %ax\n movw %ax, %ds\n hlt\n"
        ".code64\n"
        ".popsection\n");
/* Far-jump to 32-bit code at `addr` (below 4 GiB: init's text is). */
void to_compat(uint64_t addr, struct mica_ipc_buffer *buf)
{
    (void)buf;
    struct __attribute__((packed)) {
        uint32_t off;
        uint16_t sel;
    } target = {(uint32_t)addr, 0x18 | 3};
    __asm__ volatile("ljmpl *%0" : : "m"(target) : "memory");
}

/* SYSENTER from 64-bit code. */
static void sysenter64(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)arg, (void)buf;
    __asm__ volatile("sysenter\n\thlt" ::: "memory");
}

/* Load the kernel's code selector into DS from 64-bit code. */
static void load_kernel_ds64(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)arg, (void)buf;
    __asm__ volatile("movw $0x8, %%ax\n\tmovw %%ax, %%ds\n\thlt" ::: "rax", "memory");
}

/* Set TF and make a call: SYSCALL must mask it (no #DB in ring 0), and the
 * trap comes after the next instruction in ring 3, which stops the task. */
void syscall_with_tf(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)arg, (void)buf;
    __asm__ volatile("mov %0, %%eax\n\t"
                     "pushfq\n\t"
                     "orq $0x100, (%%rsp)\n\t"
                     "popfq\n\t" /* TF's first trap is after the next instruction */
                     "syscall\n\t"
                     "nop\n\t"
                     "nop\n\t"
                     "hlt"
                     :
                     : "i"(SYS_NULL)
                     : "rax", "rcx", "r11", "memory");
}

/* ---- helpers ------------------------------------------------------------- */

static mica_handle_t new_object(int notification)
{
    mica_handle_t h = 0;
    CHECK_EQ(notification ? mica_notification_create(&h) : mica_endpoint_create(&h), MICA_OK);
    return h;
}

/* Run fn(arg) in a new task at CHILD_PRIO, watched, and wait (up to a
 * second) until the task ends; its status is returned in *s. */
static void run_child_to_end(mica_thread_fn *fn, uint64_t arg, struct mica_task_status *s)
{
    mica_handle_t task = 0, th = 0, n = new_object(1);
    CHECK_EQ(mica_task_create(&task), MICA_OK);
    CHECK_EQ(mica_task_watch(task, n, 0x4), MICA_OK);
    CHECK_EQ(spawn_in_task(task, fn, arg, CHILD_PRIO, &th), MICA_OK);
    uint64_t bits = 0;
    CHECK_EQ(mica_notify_wait(n, &bits, 1000000), MICA_OK);
    CHECK_EQ(bits, 0x4);
    *s = (struct mica_task_status){0};
    CHECK_EQ(mica_task_status(task, s), MICA_OK);
    CHECK_EQ(mica_task_kill(task), MICA_EDEAD);
    mica_handle_close(th);
    mica_handle_close(task);
    mica_handle_close(n);
}

/* A child that must be stopped by a fault with one of two vectors. */
static void expect_stopped(mica_thread_fn *fn, uint64_t arg, uint64_t vec_a, uint64_t vec_b)
{
    struct mica_task_status s;
    run_child_to_end(fn, arg, &s);
    CHECK_EQ(s.state, MICA_TASK_FAULTED);
    CHECK(s.vector == vec_a || s.vector == vec_b);
    if (s.vector != vec_a && s.vector != vec_b)
        mica_printf("# vector %llu, expected %llu or %llu\n", (unsigned long long)s.vector,
                    (unsigned long long)vec_a, (unsigned long long)vec_b);
}

/* Make call nr (one argument in RDI, a timeout in R12) with `set` ORed
 * into RFLAGS, and give back RFLAGS as the call returned them (before they
 * are restored) and the status. */
static int call_with_flags(uint64_t nr, uint64_t a0, uint64_t timeout, uint64_t set, uint64_t *flags_after)
{
    uint64_t rax = nr, rdi = a0, after;
    register uint64_t r12 __asm__("r12") = timeout;
    __asm__ volatile("pushfq\n\t"
                     "pushfq\n\t"
                     "orq %[set], (%%rsp)\n\t"
                     "popfq\n\t"
                     "syscall\n\t"
                     "pushfq\n\t"
                     "popq %[after]\n\t"
                     "popfq"
                     : "+a"(rax), "+D"(rdi), [after] "=&r"(after)
                     : [set] "r"(set), "r"(r12)
                     : "rsi", "rdx", "r10", "r8", "r9", "rcx", "r11", "memory", "cc");
    *flags_after = after;
    return (int)rax;
}

static volatile uint64_t started;

static void note_start(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)buf;
    started |= arg;
}

static volatile int spin_stop;

static void spin_until_told(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)buf, (void)arg;
    while (!spin_stop)
        ;
}

/* ---- RFLAGS -------------------------------------------------------------- */

/* NT (and DF, AC) set across calls that block: while this thread sleeps,
 * the kernel starts new threads and resumes a preempted one by IRETQ,
 * which faults in ring 0 if NT leaked into the kernel's own RFLAGS. */
static void t_rflags_nt_blocking(void)
{
    static const uint64_t sets[] = {RFLAGS_NT, RFLAGS_DF, RFLAGS_AC, RFLAGS_NT | RFLAGS_DF | RFLAGS_AC};
    started = 0;
    spin_stop = 0;
    mica_handle_t spinner = 0;
    CHECK_EQ(spawn_local(spin_until_told, 0, 1, &spinner), MICA_OK); /* preempted by the timer: IRETQ */
    for (unsigned i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        mica_handle_t th = 0;
        CHECK_EQ(spawn_local(note_start, 1ull << i, 50, &th), MICA_OK);
        uint64_t after = 0;
        CHECK_EQ(call_with_flags(SYS_SLEEP, 2000, 0, sets[i], &after), MICA_OK);
        CHECK_EQ(after & sets[i], sets[i]); /* the task's own flags come back */
        CHECK(started & (1ull << i));       /* the thread started (by IRETQ) meanwhile */
        CHECK_EQ(call_with_flags(SYS_YIELD, 0, 0, sets[i], &after), MICA_OK);
        mica_handle_close(th);
    }
    /* A blocking receive that times out, with NT set. */
    mica_handle_t ep = new_object(0);
    uint64_t after = 0;
    CHECK_EQ(call_with_flags(SYS_RECV, ep, 3000, RFLAGS_NT, &after), MICA_ETIMEOUT);
    mica_handle_close(ep);
    spin_stop = 1;
    mica_sleep_us(2000);
    mica_handle_close(spinner);
}

/* TF set at a SYSCALL: the kernel masks it, the task takes its #DB in
 * ring 3 after the call and is stopped for it. */
static void t_rflags_tf_syscall(void)
{
    expect_stopped(syscall_with_tf, 0, VEC_DB, VEC_DB);
}

/* ---- a 32-bit code segment ---------------------------------------------- */

static void t_compat_syscall(void)
{
    expect_stopped(to_compat, (uint64_t)(uintptr_t)compat_syscall, VEC_UD, VEC_UD);
}

static void t_compat_sysenter(void)
{
    expect_stopped(to_compat, (uint64_t)(uintptr_t)compat_sysenter, VEC_GP, VEC_UD);
    expect_stopped(sysenter64, 0, VEC_GP, VEC_UD);
}

static void t_compat_int_and_segments(void)
{
    expect_stopped(to_compat, (uint64_t)(uintptr_t)compat_int80, VEC_GP, VEC_GP);
    expect_stopped(to_compat, (uint64_t)(uintptr_t)compat_lcall_tss, VEC_GP, VEC_GP);
    expect_stopped(to_compat, (uint64_t)(uintptr_t)compat_load_kernel_ds, VEC_GP, VEC_GP);
    expect_stopped(load_kernel_ds64, 0, VEC_GP, VEC_GP);
}

/* ---- SYSCALL at the top of the user half ---------------------------------- */

static volatile uint64_t top_received;

static void count_receiver(uint64_t ep, struct mica_ipc_buffer *buf)
{
    (void)buf;
    struct mica_msg m;
    uint64_t badge;
    while (mica_recv((mica_handle_t)ep, &m, &badge, INF) == MICA_OK)
        top_received++;
}

/* A child whose only thread makes call nr from the last two bytes of the
 * user half, with a send handle to ep: it must be stopped before the call
 * does anything, and its task must end with it (its watcher is told). */
static void top_call(uint64_t nr, mica_handle_t ep)
{
    uint64_t top = bootinfo->user_top;
    mica_handle_t task = 0, th = 0, n = new_object(1), remote = 0;
    CHECK_EQ(mica_task_create(&task), MICA_OK);
    CHECK_EQ(mica_task_watch(task, n, 0x1), MICA_OK);
    CHECK_EQ(mica_task_give(task, ep, MICA_R_SEND, 0, &remote), MICA_OK);
    uint64_t *stack = page_alloc(1);
    CHECK(stack != NULL);
    if (stack == NULL)
        return;
    stack[510] = nr;     /* popped into RAX */
    stack[511] = remote; /* popped into RDI */
    CHECK_EQ(mica_map(task, (uint64_t)(uintptr_t)hostile_top_page, top - MICA_PAGE_SIZE, 1,
                      MICA_MAP_READ | MICA_MAP_EXEC),
             MICA_OK);
    CHECK_EQ(mica_map(task, (uint64_t)(uintptr_t)stack, 0x10000000, 1, MICA_MAP_READ | MICA_MAP_WRITE),
             MICA_OK);
    CHECK_EQ(mica_thread_create(task, top - 4, 0x10000000 + MICA_PAGE_SIZE - 16, 0, CHILD_PRIO, 0, &th),
             MICA_OK);
    uint64_t bits = 0;
    CHECK_EQ(mica_notify_wait(n, &bits, 1000000), MICA_OK);
    struct mica_task_status s = {0};
    CHECK_EQ(mica_task_status(task, &s), MICA_OK);
    CHECK_EQ(s.state, MICA_TASK_FAULTED);
    CHECK_EQ(s.vector, VEC_GP);
    CHECK_EQ(s.rip, top);
    if (s.state != MICA_TASK_FAULTED)
        mica_printf("# call %llu at the top: task state %llu\n", (unsigned long long)nr,
                    (unsigned long long)s.state);
    mica_task_kill(task);
    mica_handle_close(th);
    mica_handle_close(task);
    mica_handle_close(n);
}

/* Every call number (and two past the last), with the fastpath on and off;
 * SYS_CALL finds a receiver waiting, as the fastpath wants it. */
static void t_syscall_at_top_every_call(void)
{
    mica_handle_t ep = new_object(0), srv = 0;
    top_received = 0;
    CHECK_EQ(spawn_local(count_receiver, ep, 45, &srv), MICA_OK);
    for (int fast = 1; fast >= 0; fast--) {
        mica_fastpath_set(fast);
        for (uint64_t nr = 0; nr < SYS_COUNT + 2; nr++)
            top_call(nr, ep);
    }
    mica_fastpath_set(1);
    CHECK_EQ(top_received, 0); /* no call from the top was delivered */
    mica_handle_close(ep);
    mica_sleep_us(2000);
    mica_handle_close(srv);
}

/* ---- FPU ------------------------------------------------------------------ */

static bool have_avx(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (!(c & (1u << 27)) || !(c & (1u << 28))) /* OSXSAVE, AVX */
        return false;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0x6) == 0x6;
}

/* What one thread reads of its registers: the FXSAVE image and the upper
 * halves of YMM0..15 (zero without AVX). */
struct fpu_view {
    uint8_t fx[512] __attribute__((aligned(64)));
    uint8_t ymm_hi[16][16];
};

static void fpu_read(struct fpu_view *v, bool avx)
{
    /* FXSAVE leaves the reserved bytes (ST padding among them) alone. */
    for (size_t i = 0; i < sizeof v->fx; i++)
        v->fx[i] = 0;
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++)
            v->ymm_hi[i][j] = 0;
    __asm__ volatile("fxsave64 %0" : "+m"(v->fx));
    if (avx) {
#define HI(n) __asm__ volatile("vextractf128 $1, %%ymm" #n ", %0" : "=m"(v->ymm_hi[n]))
        HI(0);
        HI(1);
        HI(2);
        HI(3);
        HI(4);
        HI(5);
        HI(6);
        HI(7);
        HI(8);
        HI(9);
        HI(10);
        HI(11);
        HI(12);
        HI(13);
        HI(14);
        HI(15);
#undef HI
    }
}

/* Fill every register with values derived from seed: two x87 stack
 * entries, XMM0..15 (and the YMM upper halves), MXCSR's rounding bits. */
static void fpu_fill(uint64_t seed, bool avx)
{
    uint64_t v[2];
    struct fpu_view img;
    fpu_read(&img, false);
    for (int i = 0; i < 16; i++) {
        v[0] = seed * 0x9e3779b97f4a7c15ull + (uint64_t)i;
        v[1] = ~v[0];
        __builtin_memcpy(img.fx + 160 + 16 * i, v, 16);
    }
    *(uint32_t *)(img.fx + 24) = 0x1f80 | ((seed & 3) << 13); /* rounding control */
    __asm__ volatile("fxrstor64 %0" : : "m"(img.fx));
    uint64_t x87[2] = {seed | 1, (seed << 1) | 1};
    __asm__ volatile("fildll %0\n\tfildll %1" : : "m"(x87[0]), "m"(x87[1]));
    if (avx) {
        uint8_t hi[16];
        for (int j = 0; j < 16; j++)
            hi[j] = (uint8_t)(seed + (uint64_t)j);
#define SETHI(n) __asm__ volatile("vinsertf128 $1, %0, %%ymm" #n ", %%ymm" #n : : "m"(hi))
        SETHI(0);
        SETHI(1);
        SETHI(2);
        SETHI(3);
        SETHI(4);
        SETHI(5);
        SETHI(6);
        SETHI(7);
        SETHI(8);
        SETHI(9);
        SETHI(10);
        SETHI(11);
        SETHI(12);
        SETHI(13);
        SETHI(14);
        SETHI(15);
#undef SETHI
    }
}

/* True when v is the state every thread starts with. */
static bool fpu_is_clean(const struct fpu_view *v)
{
    uint16_t fcw = *(const uint16_t *)(v->fx + 0), fsw = *(const uint16_t *)(v->fx + 2);
    uint8_t ftw = v->fx[4];
    uint32_t mxcsr = *(const uint32_t *)(v->fx + 24);
    if (fcw != 0x37f || fsw != 0 || ftw != 0 || mxcsr != 0x1f80)
        return false;
    for (int i = 32; i < 416; i++) /* ST0..7 and XMM0..15 */
        if (v->fx[i] != 0)
            return false;
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++)
            if (v->ymm_hi[i][j] != 0)
                return false;
    return true;
}

/* True when two views hold the same registers: control and status words,
 * tags, MXCSR, the eight 80-bit x87 registers, XMM0..15, YMM upper halves
 * (not the reserved bytes, nor the last-instruction pointers). */
static bool fpu_same(const struct fpu_view *a, const struct fpu_view *b)
{
    if (__builtin_memcmp(a->fx, b->fx, 5) != 0 || __builtin_memcmp(a->fx + 24, b->fx + 24, 4) != 0)
        return false;
    for (int i = 0; i < 8; i++)
        if (__builtin_memcmp(a->fx + 32 + 16 * i, b->fx + 32 + 16 * i, 10) != 0)
            return false;
    return __builtin_memcmp(a->fx + 160, b->fx + 160, 256) == 0 &&
           __builtin_memcmp(a->ymm_hi, b->ymm_hi, 256) == 0;
}

static volatile int fpu_bad[4], fpu_done[4], fpu_dirty_seen[4];

/* Start clean, fill the registers from a seed of its own, then keep
 * checking them across sleeps and yields while others do the same. */
static void fpu_worker(uint64_t idx, struct mica_ipc_buffer *buf)
{
    (void)buf;
    bool avx = have_avx();
    struct fpu_view first, want, now;
    fpu_read(&first, avx);
    if (!fpu_is_clean(&first))
        fpu_dirty_seen[idx] = 1;
    fpu_fill(0x5eed0000 + idx * 77, avx);
    fpu_read(&want, avx);
    for (int round = 0; round < 40; round++) {
        if (round % 2)
            mica_yield();
        else
            mica_sleep_us(500);
        fpu_read(&now, avx);
        if (!fpu_same(&want, &now))
            fpu_bad[idx]++;
    }
    fpu_done[idx] = 1;
}

/* A thread that never touches the FPU until its very end, then reads: it
 * must still see the clean state although others left theirs dirty. */
static void fpu_late_reader(uint64_t idx, struct mica_ipc_buffer *buf)
{
    (void)buf;
    for (int round = 0; round < 40; round++)
        mica_yield();
    struct fpu_view v;
    fpu_read(&v, have_avx());
    if (!fpu_is_clean(&v))
        fpu_dirty_seen[idx] = 1;
    fpu_done[idx] = 1;
}

static void t_fpu_private_and_clean(void)
{
    for (int i = 0; i < 4; i++)
        fpu_bad[i] = fpu_done[i] = fpu_dirty_seen[i] = 0;
    mica_handle_t th[4] = {0};
    /* Two workers and a late reader, all threads of init. */
    CHECK_EQ(spawn_local(fpu_worker, 0, CHILD_PRIO, &th[0]), MICA_OK);
    CHECK_EQ(spawn_local(fpu_worker, 1, CHILD_PRIO, &th[1]), MICA_OK);
    CHECK_EQ(spawn_local(fpu_late_reader, 3, CHILD_PRIO, &th[3]), MICA_OK);
    for (int wait = 0; wait < 400 && !(fpu_done[0] && fpu_done[1] && fpu_done[3]); wait++)
        mica_sleep_us(1000);
    CHECK(fpu_done[0] && fpu_done[1] && fpu_done[3]);
    CHECK_EQ(fpu_bad[0] + fpu_bad[1], 0);
    CHECK_EQ(fpu_dirty_seen[0] + fpu_dirty_seen[1] + fpu_dirty_seen[3], 0);
    /* init itself: fill, block while the others ran, still ours. */
    bool avx = have_avx();
    struct fpu_view want, now;
    fpu_fill(0xabcdef, avx);
    fpu_read(&want, avx);
    mica_sleep_us(2000);
    fpu_read(&now, avx);
    CHECK(fpu_same(&want, &now));
    for (int i = 0; i < 4; i++)
        if (th[i])
            mica_handle_close(th[i]);
}

/* A child task that fills its registers and checks them across sleeps
 * while init's threads use theirs; it exits (EXITED) when all held, and
 * faults (#UD) when any did not (it sees init's data read-only, so its
 * verdict is how it ends). */
static void fpu_child(uint64_t seed, struct mica_ipc_buffer *buf)
{
    (void)buf;
    bool avx = have_avx();
    struct fpu_view first, want, now;
    fpu_read(&first, avx);
    if (!fpu_is_clean(&first))
        __builtin_trap();
    fpu_fill(seed, avx);
    fpu_read(&want, avx);
    for (int round = 0; round < 20; round++) {
        mica_sleep_us(500);
        fpu_read(&now, avx);
        if (!fpu_same(&want, &now))
            __builtin_trap();
    }
}

static void t_fpu_across_tasks(void)
{
    for (int i = 0; i < 4; i++)
        fpu_bad[i] = fpu_done[i] = fpu_dirty_seen[i] = 0;
    mica_handle_t local = 0;
    CHECK_EQ(spawn_local(fpu_worker, 2, CHILD_PRIO, &local), MICA_OK);
    struct mica_task_status s;
    run_child_to_end(fpu_child, 0x77777, &s);
    CHECK_EQ(s.state, MICA_TASK_EXITED);
    for (int wait = 0; wait < 400 && !fpu_done[2]; wait++)
        mica_sleep_us(1000);
    CHECK(fpu_done[2]);
    CHECK_EQ(fpu_bad[2], 0);
    CHECK_EQ(fpu_dirty_seen[2], 0);
    mica_handle_close(local);
}

/* ---- buffers over a page end ---------------------------------------------- */

/* Two pages of ours, the second unmapped (or read-only); [p, p + 4096)
 * filled with 0xa5.  Returns p. */
static uint8_t *straddle_pages(bool second_read_only)
{
    uint8_t *p = page_alloc(2);
    CHECK(p != NULL);
    if (p == NULL)
        return NULL;
    for (int i = 0; i < 4096; i++)
        p[i] = 0xa5;
    uint64_t second = (uint64_t)(uintptr_t)p + MICA_PAGE_SIZE;
    if (second_read_only)
        CHECK_EQ(mica_protect(bootinfo->self_task, second, 1, MICA_MAP_READ), MICA_OK);
    else
        CHECK_EQ(mica_unmap(bootinfo->self_task, second, 1), MICA_OK);
    return p;
}

static bool all_a5(const uint8_t *p, int from, int to)
{
    for (int i = from; i < to; i++)
        if (p[i] != 0xa5)
            return false;
    return true;
}

/* SYS_DEBUG_COUNTS into a struct that runs past the end of a writable
 * page: EFAULT, and the part that was writable is unchanged. */
static void t_straddle_debug_counts(void)
{
    for (int ro = 0; ro < 2; ro++) {
        uint8_t *p = straddle_pages(ro);
        if (p == NULL)
            return;
        uint64_t at = MICA_PAGE_SIZE - sizeof(struct mica_obj_counts) / 2;
        CHECK_EQ(mica_debug_counts((struct mica_obj_counts *)(p + at)), MICA_EFAULT);
        CHECK(all_a5(p, 0, 4096));
    }
}

/* A debug write whose second half is unmapped prints nothing at all: the
 * harness checks that the marker in the first half never reaches the log. */
static void t_straddle_debug_write(void)
{
    uint8_t *p = straddle_pages(false);
    if (p == NULL)
        return;
    static const char marker[] = "STRADDLE-MARKER-must-not-print";
    uint8_t *start = p + MICA_PAGE_SIZE - 256;
    for (int i = 0; i < 256; i++)
        start[i] = (uint8_t)marker[i % (int)(sizeof marker - 1)];
    CHECK_EQ(mica_debug_write((const char *)start, 512), MICA_EFAULT);
    CHECK_EQ(mica_debug_write((const char *)start, 1ull << 20), MICA_EINVAL);
}

/* ---- timeouts --------------------------------------------------------------- */

static volatile int64_t sleep_status, recv_status, wait_status;
static volatile int sleep_back, recv_back, wait_back;

static void long_sleeper(uint64_t us, struct mica_ipc_buffer *buf)
{
    (void)buf;
    sleep_status = mica_sleep_us(us);
    sleep_back = 1;
}

static void long_receiver(uint64_t ep, struct mica_ipc_buffer *buf)
{
    (void)buf;
    struct mica_msg m;
    uint64_t badge;
    recv_status = mica_recv((mica_handle_t)ep, &m, &badge, INF - 1);
    recv_back = 1;
}

static void long_waiter(uint64_t n, struct mica_ipc_buffer *buf)
{
    (void)buf;
    uint64_t bits;
    wait_status = mica_notify_wait((mica_handle_t)n, &bits, INF - 1);
    wait_back = 1;
}

/* Sleep of 2^64-1 us and waits of 2^64-2 us: none returns by itself
 * (before the fix they wrapped to one tick). */
static void t_timeout_saturates(void)
{
    sleep_back = recv_back = wait_back = 0;
    mica_handle_t ep = new_object(0), n = new_object(1), ts = 0, tr = 0, tw = 0;
    CHECK_EQ(spawn_local(long_sleeper, UINT64_MAX, 45, &ts), MICA_OK);
    CHECK_EQ(spawn_local(long_receiver, ep, 45, &tr), MICA_OK);
    CHECK_EQ(spawn_local(long_waiter, n, 45, &tw), MICA_OK);
    mica_sleep_us(20000);
    CHECK(!sleep_back && !recv_back && !wait_back);
    CHECK_EQ(mica_thread_abort(ts), MICA_OK);
    struct mica_msg m;
    mica_msg_init(&m, 1);
    CHECK_EQ(mica_send(ep, &m, 100000), MICA_OK);
    CHECK_EQ(mica_notify_signal(n, 1), MICA_OK);
    mica_sleep_us(2000);
    CHECK(sleep_back && recv_back && wait_back);
    CHECK_EQ(sleep_status, MICA_EABORTED);
    CHECK_EQ(recv_status, MICA_OK);
    CHECK_EQ(wait_status, MICA_OK);
    mica_handle_close(ts);
    mica_handle_close(tr);
    mica_handle_close(tw);
    mica_handle_close(ep);
    mica_handle_close(n);
}

/* ---- the last thread of a task -------------------------------------------- */

static void just_return(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)arg, (void)buf;
}

/* For a child (it writes no global): sleep, then return. */
static void sleep_then_return(uint64_t us, struct mica_ipc_buffer *buf)
{
    (void)buf;
    mica_sleep_us(us);
}

/* Two threads: one stopped by the kernel (a call at the top of the user
 * half) leaves the task alive; when the other exits, the task ends. */
static void t_last_thread_ends_task(void)
{
    uint64_t top = bootinfo->user_top;
    mica_handle_t task = 0, th1 = 0, th2 = 0, n = new_object(1);
    CHECK_EQ(mica_task_create(&task), MICA_OK);
    CHECK_EQ(mica_task_watch(task, n, 0x2), MICA_OK);
    uint64_t *stack = page_alloc(1);
    if (stack == NULL)
        return;
    stack[510] = SYS_NULL;
    stack[511] = 0;
    CHECK_EQ(mica_map(task, (uint64_t)(uintptr_t)hostile_top_page, top - MICA_PAGE_SIZE, 1,
                      MICA_MAP_READ | MICA_MAP_EXEC),
             MICA_OK);
    CHECK_EQ(mica_map(task, (uint64_t)(uintptr_t)stack, 0x10000000, 1, MICA_MAP_READ | MICA_MAP_WRITE),
             MICA_OK);
    /* A second thread that waits (its own sleep) before it returns. */
    CHECK_EQ(spawn_in_task(task, sleep_then_return, 30000, CHILD_PRIO, &th2), MICA_OK);
    CHECK_EQ(mica_thread_create(task, top - 4, 0x10000000 + MICA_PAGE_SIZE - 16, 0, CHILD_PRIO, 0, &th1),
             MICA_OK);
    mica_sleep_us(5000);
    struct mica_task_status s = {0};
    CHECK_EQ(mica_task_status(task, &s), MICA_OK);
    CHECK_EQ(s.state, MICA_TASK_ALIVE); /* one thread is left */
    CHECK_EQ(mica_thread_set_priority(th1, 1), MICA_EDEAD);
    uint64_t bits = 0;
    CHECK_EQ(mica_notify_wait(n, &bits, 1000000), MICA_OK);
    CHECK_EQ(mica_task_status(task, &s), MICA_OK);
    CHECK_EQ(s.state, MICA_TASK_EXITED);
    mica_handle_close(th1);
    mica_handle_close(th2);
    mica_handle_close(task);
    mica_handle_close(n);
    /* And a task whose one thread just returns ends as exited. */
    run_child_to_end(just_return, 0, &s);
    CHECK_EQ(s.state, MICA_TASK_EXITED);
}

/* ---- the table ------------------------------------------------------------ */

GUEST_SUITE(hostile, .prio = 50, .baseline = true);

GUEST_CASE(hostile, "rflags_nt_df_ac_blocking", t_rflags_nt_blocking);
GUEST_CASE(hostile, "rflags_tf_syscall", t_rflags_tf_syscall);
GUEST_CASE(hostile, "compat_syscall", t_compat_syscall);
GUEST_CASE(hostile, "compat_sysenter", t_compat_sysenter);
GUEST_CASE(hostile, "compat_int_farcall_segments", t_compat_int_and_segments);
GUEST_CASE(hostile, "syscall_at_top_every_call", t_syscall_at_top_every_call);
GUEST_CASE(hostile, "fpu_private_and_clean", t_fpu_private_and_clean);
GUEST_CASE(hostile, "fpu_across_tasks", t_fpu_across_tasks);
GUEST_CASE(hostile, "straddle_debug_counts", t_straddle_debug_counts);
GUEST_CASE(hostile, "straddle_debug_write", t_straddle_debug_write);
GUEST_CASE(hostile, "timeout_saturates", t_timeout_saturates);
GUEST_CASE(hostile, "last_thread_ends_task", t_last_thread_ends_task);
