/* Benchmarks (bench=ipc on the kernel command line), measured the way
 * sel4bench does: warm up, then SAMPLES samples; a one-way figure is the
 * receiver's counter read right after its system call returns minus the
 * sender's read right before its call; the cost of reading the counter is
 * subtracted.  Under QEMU -icount shift=0 the counter (rdtsc) counts
 * retired guest instructions, so the figures are exact and repeatable.
 * Output: one line per figure,
 *   BENCH name=<figure> unit=<unit> min=<n> median=<n> max=<n> samples=<n>
 * where unit comes from benchunit= on the command line (make bench sets
 * "instructions" under -icount, "cycles" otherwise). */
#include "base/str.h"
#include "guest.h"
#include <mica/pager.h>

#define WARMUP 16
#define SAMPLES 64
#define LABEL_STAMP 1 /* server stamps its side */
#define LABEL_ECHO 2  /* server just answers */
#define LABEL_LONG 3  /* echo with the long message */

static uint64_t overhead;
static char unit[24] = "tsc";
static uint64_t samples[SAMPLES];

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* Sort v[0..n) ascending (insertion sort: n is small). */
static void sort(uint64_t *v, int n)
{
    for (int i = 1; i < n; i++) {
        uint64_t x = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
}

/* Print one BENCH line for SAMPLES values in v (sorted in place). */
static void report(const char *name, uint64_t *v, const char *note)
{
    sort(v, SAMPLES);
    mica_printf("BENCH name=%s unit=%s min=%llu median=%llu max=%llu samples=%d%s%s\n", name, unit,
                (unsigned long long)v[0], (unsigned long long)v[SAMPLES / 2],
                (unsigned long long)v[SAMPLES - 1], SAMPLES, note ? " " : "", note ? note : "");
}

/* x - overhead, never below zero. */
static uint64_t net(uint64_t x)
{
    return x > overhead ? x - overhead : 0;
}

/* The cost of reading the counter: the least of many back-to-back reads. */
static void measure_overhead(void)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 256; i++) {
        uint64_t a = rdtsc();
        uint64_t b = rdtsc();
        if (b - a < best)
            best = b - a;
    }
    overhead = best;
}

/* The benchmark server: LABEL_STAMP calls get mr[1] = (its counter right
 * after receiving) - mr[0], and mr[2] = its counter right before replying.
 * It uses only its stack and IPC buffer, so it can run in a child task. */
static void bench_server(uint64_t ep, struct mica_ipc_buffer *buf)
{
    (void)buf;
    struct mica_msg m;
    uint64_t badge;
    int st = mica_recv((mica_handle_t)ep, &m, &badge, MICA_TIMEOUT_INFINITE);
    while (st == MICA_OK) {
        if (mica_msg_label(&m) == LABEL_STAMP) {
            uint64_t t1 = rdtsc();
            m.mr[1] = t1 - m.mr[0];
            m.mr[2] = rdtsc();
        }
        st = mica_reply_recv((mica_handle_t)ep, &m, &badge, MICA_TIMEOUT_INFINITE);
    }
}

/* bench_server after one SSE instruction: a server that uses the FPU,
 * whose registers the kernel must then switch. */
static void bench_server_fpu(uint64_t ep, struct mica_ipc_buffer *buf)
{
    __asm__ volatile("pxor %%xmm0, %%xmm0" ::: "memory");
    bench_server(ep, buf);
}

static void bench_ipc(mica_handle_t ep, const char *call_name, const char *rr_name, const char *rt_name);
static volatile int fpu_client_done;

/* A client thread of init that uses the FPU, for the round trip between
 * two threads that both do (init's own thread stays a non-user). */
static void bench_client_fpu(uint64_t ep, struct mica_ipc_buffer *buf)
{
    (void)buf;
    __asm__ volatile("pxor %%xmm1, %%xmm1" ::: "memory");
    bench_ipc((mica_handle_t)ep, "ipc_call_xas_fpu", "ipc_reply_recv_xas_fpu", "ipc_roundtrip_xas_fpu");
    fpu_client_done = 1;
}

/* The same cross-space round trip with FPU users on both sides: what the
 * register switch costs (docs/kernel.md). */
static void bench_ipc_fpu(void)
{
    mica_handle_t ep = 0, task = 0, th = 0, client = 0;
    mica_endpoint_create(&ep);
    spawn_remote_with(bench_server_fpu, ep, MICA_R_RECV, 0, &task, &th);
    mica_sleep_us(2000);
    fpu_client_done = 0;
    spawn_local(bench_client_fpu, ep, 50, &client);
    while (!fpu_client_done)
        mica_sleep_us(1000);
    mica_task_kill(task);
    mica_handle_close(th);
    mica_handle_close(task);
    mica_handle_close(client);
    mica_handle_close(ep);
}

/* Call/reply_recv one-way figures and the plain round trip through ep. */
static void bench_ipc(mica_handle_t ep, const char *call_name, const char *rr_name, const char *rt_name)
{
    static uint64_t rr[SAMPLES], rt[SAMPLES];
    for (int i = 0; i < WARMUP + SAMPLES; i++) {
        struct mica_msg m;
        mica_msg_init(&m, LABEL_STAMP);
        m.mr[0] = rdtsc();
        mica_call(ep, &m, MICA_TIMEOUT_INFINITE);
        uint64_t t_end = rdtsc();
        if (i >= WARMUP) {
            samples[i - WARMUP] = net(m.mr[1]);
            rr[i - WARMUP] = net(t_end - m.mr[2]);
        }
    }
    for (int i = 0; i < WARMUP + SAMPLES; i++) {
        struct mica_msg m;
        mica_msg_init(&m, LABEL_ECHO);
        uint64_t t0 = rdtsc();
        mica_call(ep, &m, MICA_TIMEOUT_INFINITE);
        uint64_t t1 = rdtsc();
        if (i >= WARMUP)
            rt[i - WARMUP] = net(t1 - t0);
    }
    report(call_name, samples, NULL);
    report(rr_name, rr, NULL);
    report(rt_name, rt, NULL);
}

/* Round trip with the four message registers filled, and with a long
 * message of MICA_MSG_MAX_WORDS words each way. */
static void bench_ipc_payloads(mica_handle_t ep)
{
    static uint64_t lng[SAMPLES];
    uint64_t words[MICA_MSG_MAX_WORDS];
    for (int i = 0; i < MICA_MSG_MAX_WORDS; i++)
        words[i] = (uint64_t)i;
    for (int i = 0; i < WARMUP + SAMPLES; i++) {
        struct mica_msg m;
        mica_msg_init(&m, LABEL_ECHO);
        m.mr[0] = 1, m.mr[1] = 2, m.mr[2] = 3, m.mr[3] = 4;
        uint64_t t0 = rdtsc();
        mica_call(ep, &m, MICA_TIMEOUT_INFINITE);
        uint64_t t1 = rdtsc();
        struct mica_msg l;
        mica_msg_init(&l, LABEL_LONG);
        mica_msg_set_long(&l, words, MICA_MSG_MAX_WORDS);
        uint64_t t2 = rdtsc();
        mica_call(ep, &l, MICA_TIMEOUT_INFINITE);
        uint64_t t3 = rdtsc();
        if (i >= WARMUP) {
            samples[i - WARMUP] = net(t1 - t0);
            lng[i - WARMUP] = net(t3 - t2);
        }
    }
    report("ipc_roundtrip_xas_4w", samples, "(every message carries the 4 registers)");
    report("ipc_roundtrip_xas_long", lng, "(64 words each way)");
}

static void bench_null(void)
{
    for (int i = 0; i < WARMUP + SAMPLES; i++) {
        uint64_t t0 = rdtsc();
        mica_null();
        uint64_t t1 = rdtsc();
        if (i >= WARMUP)
            samples[i - WARMUP] = net(t1 - t0);
    }
    report("null_syscall", samples, NULL);
}

/* notify_wake: a higher-priority waiter stamps after its wait returns. */
static volatile uint64_t stamp_in, stamp_out;

static void notify_waiter(uint64_t ntf, struct mica_ipc_buffer *buf)
{
    (void)buf;
    uint64_t bits;
    while (mica_notify_wait((mica_handle_t)ntf, &bits, MICA_TIMEOUT_INFINITE) == MICA_OK) {
        stamp_out = rdtsc();
        if (bits & 2)
            break;
    }
}

static mica_handle_t notify_n, notify_th;

/* Start the waiter above the priority the benchmarks run at (50): called
 * while init still has its boot priority. */
static void notify_setup(void)
{
    mica_notification_create(&notify_n);
    spawn_local(notify_waiter, notify_n, 60, &notify_th);
}

static void bench_notify(void)
{
    mica_handle_t n = notify_n, th = notify_th;
    for (int i = 0; i < WARMUP + SAMPLES; i++) {
        uint64_t t0 = rdtsc();
        mica_notify_signal(n, 1);
        if (i >= WARMUP)
            samples[i - WARMUP] = net(stamp_out - t0);
    }
    mica_notify_signal(n, 2);
    report("notify_wake", samples, NULL);
    mica_handle_close(th);
    mica_handle_close(n);
}

/* yield: from one thread's rdtsc before yield to its peer's after yield. */
static volatile int yield_stop;

static void yield_peer(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)arg, (void)buf;
    while (!yield_stop) {
        stamp_out = rdtsc();
        mica_yield();
    }
}

static void bench_yield(void)
{
    mica_handle_t me = bootinfo->self_thread, th = 0;
    yield_stop = 0;
    mica_thread_set_priority(me, 20);
    spawn_local(yield_peer, 0, 20, &th);
    for (int i = 0; i < WARMUP + SAMPLES; i++) {
        uint64_t t0 = rdtsc();
        mica_yield(); /* the peer runs: it stamps, then yields back */
        if (i >= WARMUP)
            samples[i - WARMUP] = net(stamp_out - t0);
    }
    yield_stop = 1;
    mica_yield();
    report("yield", samples, NULL);
    mica_handle_close(th);
}

/* map_page / unmap_page: one 4 KiB page into a child task. */
static void bench_map(void)
{
    static uint64_t un[SAMPLES];
    mica_handle_t task = 0;
    mica_task_create(&task);
    char *page = page_alloc(1);
    for (int i = 0; i < WARMUP + SAMPLES; i++) {
        uint64_t dst = 0x10000000ull + (uint64_t)i * MICA_PAGE_SIZE;
        uint64_t t0 = rdtsc();
        mica_map(task, (uint64_t)(uintptr_t)page, dst, 1, MICA_MAP_READ | MICA_MAP_WRITE);
        uint64_t t1 = rdtsc();
        mica_unmap(task, dst, 1);
        uint64_t t2 = rdtsc();
        if (i >= WARMUP) {
            samples[i - WARMUP] = net(t1 - t0);
            un[i - WARMUP] = net(t2 - t1);
        }
    }
    report("map_page", samples, NULL);
    report("unmap_page", un, NULL);
    for (int i = 0; i < WARMUP + SAMPLES; i++) {
        uint64_t dst = 0x20000000ull + (uint64_t)i * MICA_PAGE_SIZE;
        mica_map(task, (uint64_t)(uintptr_t)page, dst, 1, MICA_MAP_READ | MICA_MAP_WRITE);
        uint64_t t0 = rdtsc();
        mica_protect(task, dst, 1, MICA_MAP_READ);
        uint64_t t1 = rdtsc();
        mica_unmap(task, dst, 1);
        if (i >= WARMUP)
            samples[i - WARMUP] = net(t1 - t0);
    }
    report("protect_page", samples, "(read-write to read-only)");
    mica_task_kill(task);
    mica_handle_close(task);
}

#define REVOKE_MAX 64

/* unmap_revoke_<n>: take back one page of init's that n other tasks map,
 * each its own copy of init's mapping (SYS_UNMAP with MICA_UNMAP_DERIVED:
 * init keeps its own, as the pager does when it takes a frame back). */
static void bench_revoke(void)
{
    static const int counts[] = {1, 8, REVOKE_MAX};
    static const char *const names[] = {"unmap_revoke_1", "unmap_revoke_8", "unmap_revoke_64"};
    mica_handle_t tasks[REVOKE_MAX] = {0};
    char *page = page_alloc(1);
    for (int k = 0; k < REVOKE_MAX; k++)
        mica_task_create(&tasks[k]);
    for (unsigned c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        uint64_t wrong = 0;
        for (int i = 0; i < WARMUP + SAMPLES; i++) {
            uint64_t removed = 0;
            for (int k = 0; k < counts[c]; k++)
                mica_map(tasks[k], (uint64_t)(uintptr_t)page, 0x10000000ull, 1, MICA_MAP_READ);
            uint64_t t0 = rdtsc();
            mica_unmap_ex(bootinfo->self_task, (uint64_t)(uintptr_t)page, 1, MICA_UNMAP_DERIVED, &removed);
            uint64_t t1 = rdtsc();
            wrong += removed != (uint64_t)counts[c];
            if (i >= WARMUP)
                samples[i - WARMUP] = net(t1 - t0);
        }
        if (wrong)
            mica_printf("# bench: %s: %llu rounds removed another number of mappings\n", names[c],
                        (unsigned long long)wrong);
        report(names[c], samples, "(one page of init's mapped in that many tasks; all taken back)");
    }
    for (int k = 0; k < REVOKE_MAX; k++) {
        mica_task_kill(tasks[k]);
        mica_handle_close(tasks[k]);
    }
}

/* mdb_bytes_per_mapping: the mapping database's pages for 512 small pages
 * mapped side by side into a new task, per mapping (its nodes sit in a
 * page beside each level-1 table); the page tables themselves are said
 * apart.  The database keeps nothing per frame of RAM. */
static void bench_mdb_bytes(void)
{
    struct mica_obj_counts a, b;
    mica_handle_t task = 0;
    char *page = page_alloc(1);
    mica_task_create(&task);
    mica_debug_counts(&a);
    for (uint64_t i = 0; i < 512; i++)
        mica_map(task, (uint64_t)(uintptr_t)page, (1ull << 30) + i * MICA_PAGE_SIZE, 1, MICA_MAP_READ);
    mica_debug_counts(&b);
    uint64_t bytes = (b.live[MICA_TAG_MDB] - a.live[MICA_TAG_MDB]) * MICA_PAGE_SIZE / 512;
    uint64_t tables = b.live[MICA_TAG_PAGE_TABLE] - a.live[MICA_TAG_PAGE_TABLE];
    mica_printf("BENCH name=mdb_bytes_per_mapping unit=bytes min=%llu median=%llu max=%llu samples=512 "
                "(node pages for 512 small mappings; page tables: %llu pages; per frame of RAM: none)\n",
                (unsigned long long)bytes, (unsigned long long)bytes, (unsigned long long)bytes,
                (unsigned long long)tables);
    mica_task_kill(task);
    mica_handle_close(task);
}

/* task_create: SYS_TASK_CREATE alone (a new space and handle table). */
static void bench_task_create(void)
{
    for (int i = 0; i < WARMUP + SAMPLES; i++) {
        mica_handle_t t = 0;
        uint64_t t0 = rdtsc();
        mica_task_create(&t);
        uint64_t t1 = rdtsc();
        mica_task_kill(t);
        mica_handle_close(t);
        if (i >= WARMUP)
            samples[i - WARMUP] = net(t1 - t0);
    }
    report("task_create", samples, NULL);
}

/* kmem_set: SYS_KMEM_SET moving one page into a child's kernel-memory
 * quota (the lowering back is not counted). */
static void bench_kmem_set(void)
{
    mica_handle_t t = 0;
    mica_task_create(&t);
    for (int i = 0; i < WARMUP + SAMPLES; i++) {
        uint64_t t0 = rdtsc();
        mica_kmem_set(t, MICA_KMEM_DEFAULT + 1, NULL);
        uint64_t t1 = rdtsc();
        mica_kmem_set(t, MICA_KMEM_DEFAULT, NULL);
        if (i >= WARMUP)
            samples[i - WARMUP] = net(t1 - t0);
    }
    report("kmem_set", samples, "(one page into a child's quota)");
    mica_task_kill(t);
    mica_handle_close(t);
}

/* page_clear: what the pager does to a frame before handing it out. */
static void bench_page_clear(void)
{
    uint64_t *page = page_alloc(1);
    for (int i = 0; i < WARMUP + SAMPLES; i++) {
        uint64_t p = (uint64_t)(uintptr_t)page, n = MICA_PAGE_SIZE / 8;
        uint64_t t0 = rdtsc();
        __asm__ volatile("rep stosq" : "+D"(p), "+c"(n) : "a"(0ull) : "memory");
        uint64_t t1 = rdtsc();
        if (i >= WARMUP)
            samples[i - WARMUP] = net(t1 - t0);
    }
    report("page_clear", samples, "(rep stosq: 512 iterations, each counted once)");
}

/* One store to each of WARMUP + SAMPLES fresh pages of the region at base
 * (each a demand-zero fault); the fault times, after the warm-up, go to
 * samples. */
static void time_faults(uint64_t base)
{
    for (int i = 0; i < WARMUP + SAMPLES; i++) {
        volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)(base + (uint64_t)i * MICA_PAGE_SIZE);
        uint64_t t0 = rdtsc();
        *p = 1;
        uint64_t t1 = rdtsc();
        if (i >= WARMUP)
            samples[i - WARMUP] = net(t1 - t0);
    }
}

/* pager_fault: one store to a fresh page of a demand-zero region, from the
 * faulting instruction to its completion: trap, fault message, the pager
 * allocating and clearing a frame, its reply, the kernel's checks and the
 * mapping, and the return to the instruction. */
static void bench_pager_fault(void)
{
    uint64_t base = 0;
    if (!pager_self || mica_vm_alloc(pager_self, (WARMUP + SAMPLES) * MICA_PAGE_SIZE, &base) != MICA_OK) {
        mica_puts("# bench: no pager: pager_fault not measured");
        return;
    }
    time_faults(base);
    report(
        "pager_fault", samples,
        "(demand-zero; the frame was cleared ahead of time, when freed or by the pager's clearing thread)");
    mica_vm_free(pager_self, base, (WARMUP + SAMPLES) * MICA_PAGE_SIZE);
}

/* pager_fault_cold: the same fault when no cleared frame is ready, so the
 * pager clears a never-used frame on the fault path (PAGER_COLD_FAULTS
 * makes every fault take that path while the figure is taken). */
static void bench_pager_fault_cold(void)
{
    uint64_t base = 0;
    struct mica_msg m;
    mica_msg_init(&m, PAGER_COLD_FAULTS);
    m.mr[0] = 1;
    if (!pager_self || mica_call(pager_admin, &m, MICA_TIMEOUT_INFINITE) != MICA_OK || m.mr[0] != MICA_OK ||
        mica_vm_alloc(pager_self, (WARMUP + SAMPLES) * MICA_PAGE_SIZE, &base) != MICA_OK) {
        mica_puts("# bench: no pager: pager_fault_cold not measured");
        return;
    }
    time_faults(base);
    mica_msg_init(&m, PAGER_COLD_FAULTS);
    m.mr[0] = 0;
    mica_call(pager_admin, &m, MICA_TIMEOUT_INFINITE);
    report("pager_fault_cold", samples,
           "(demand-zero; the pager clears a never-used frame on the fault path)");
    mica_vm_free(pager_self, base, (WARMUP + SAMPLES) * MICA_PAGE_SIZE);
}

/* touch_<n>mib_per_page: the cost per page of touching n MiB once. */
static void bench_touch(uint64_t mib, const char *name)
{
    uint64_t base = 0, pages = (mib << 20) / MICA_PAGE_SIZE;
    if (!pager_self || mica_vm_alloc(pager_self, mib << 20, &base) != MICA_OK)
        return;
    uint64_t t0 = rdtsc();
    for (uint64_t i = 0; i < pages; i++)
        *(volatile uint64_t *)(uintptr_t)(base + i * MICA_PAGE_SIZE) = i;
    uint64_t per = (rdtsc() - t0) / pages;
    mica_printf("BENCH name=%s unit=%s min=%llu median=%llu max=%llu samples=%llu (mean over all pages)\n",
                name, unit, (unsigned long long)per, (unsigned long long)per, (unsigned long long)per,
                (unsigned long long)pages);
    mica_vm_free(pager_self, base, mib << 20);
}

/* The unit the BENCH lines name: benchunit= on the command line. */
static void read_unit(void)
{
    const char *v;
    size_t len;
    if (str_word_value(bootinfo->cmdline, "benchunit", &v, &len) && len < sizeof unit) {
        for (size_t i = 0; i < len; i++)
            unit[i] = v[i];
        unit[len] = '\0';
    }
}

/* bench=ipc: every figure, one BENCH line each. */
static int bench_run(void)
{
    read_unit();
    uint64_t boot = rdtsc() - bootinfo->kernel_entry_tsc;
    /* Let the pager's clearing thread fill its ring first: while a thread
     * of lower priority is runnable, every system call's exit finds a
     * non-empty run queue (4 instructions more in sched_should_preempt). */
    mica_sleep_us(2000);
    notify_setup();
    mica_thread_set_priority(bootinfo->self_thread, 50);
    measure_overhead();
    mica_printf("# bench: counter overhead %llu, %d samples after %d warm-up rounds\n",
                (unsigned long long)overhead, SAMPLES, WARMUP);
    mica_printf(
        "BENCH name=boot_to_init unit=%s min=%llu median=%llu max=%llu samples=1 (kmain to init's main)\n",
        unit, (unsigned long long)boot, (unsigned long long)boot, (unsigned long long)boot);
    bench_null();

    mica_handle_t ep = 0, task = 0, th = 0;
    mica_endpoint_create(&ep);
    spawn_remote_with(bench_server, ep, MICA_R_RECV, 0, &task, &th);
    mica_sleep_us(2000);
    bench_ipc(ep, "ipc_call_xas", "ipc_reply_recv_xas", "ipc_roundtrip_xas");
    bench_ipc_payloads(ep);
    mica_task_kill(task);
    mica_handle_close(th);
    mica_handle_close(task);
    mica_handle_close(ep);
    bench_ipc_fpu();

    mica_endpoint_create(&ep);
    spawn_local(bench_server, ep, 40, &th);
    mica_sleep_us(2000);
    bench_ipc(ep, "ipc_call_sas", "ipc_reply_recv_sas", "ipc_roundtrip_sas");
    mica_handle_close(ep);
    mica_handle_close(th);

    bench_notify();
    bench_yield();
    bench_map();
    bench_revoke();
    bench_mdb_bytes();
    bench_task_create();
    bench_kmem_set();
    bench_page_clear();
    bench_pager_fault();
    bench_pager_fault_cold();
    bench_touch(4, "touch_4mib_per_page");
    bench_touch(64, "touch_64mib_per_page");
    bench_touch(256, "touch_256mib_per_page");

    mica_puts("# bench: done");
    return 0;
}

GUEST_SUITE(ipc, .key = "bench", .run = bench_run);

/* bench=boot: kmain to init's ready line, one figure.  The runner is called
 * right before init prints that line (every server started); make bench
 * boots this at several memory sizes (boot_to_ready_512m, _8g, _64g). */
static int boot_run(void)
{
    uint64_t t = rdtsc() - bootinfo->kernel_entry_tsc;
    read_unit();
    mica_printf("BENCH name=boot_to_ready unit=%s min=%llu median=%llu max=%llu samples=1 (kmain to init's "
                "ready line)\n",
                unit, (unsigned long long)t, (unsigned long long)t, (unsigned long long)t);
    return 0;
}

GUEST_SUITE(boot, .key = "bench", .run = boot_run);
