/*
 * Mica's Linux peer: the /init of a tiny initramfs booted on a stock Debian
 * kernel in the same QEMU as Mica (bench/linux/peer.py builds and boots it).
 * Under QEMU's -icount shift=0 the guest's TSC counts retired guest
 * instructions, so every figure is a path length, as Mica's are.
 *
 * Each figure times one operation at a time with the TSC, many times, and
 * prints the median and the minimum, net of the cost of reading the counter
 * (measured here the same way, reported as timer_overhead).  Output, one
 * line per figure, on the console (the serial line):
 *
 *   PEER name=<figure> median=<n> min=<n> samples=<n>
 *   PEER-INFO <key>=<value>
 *   PEER-SKIP name=<figure> reason="..."
 *   PEER-DONE
 *
 * As PID 1 it then powers the machine off; run as an ordinary program it
 * just exits.  C11 + POSIX/Linux calls; built with gcc -static -pthread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096ul
#define WARMUP 64

static uint64_t timer_overhead;

/* Counter reads that the CPU cannot move across the timed code. */
static inline uint64_t tick_begin(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi)::"memory");
    return (uint64_t)hi << 32 | lo;
}

static inline uint64_t tick_end(void)
{
    uint32_t lo, hi, aux;
    __asm__ volatile("rdtscp; lfence" : "=a"(lo), "=d"(hi), "=c"(aux)::"memory");
    return (uint64_t)hi << 32 | lo;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sort s[0..n) and return its median (s[n/2]); s[0] is then the minimum. */
static uint64_t median(uint64_t *s, size_t n)
{
    qsort(s, n, sizeof *s, cmp_u64);
    return s[n / 2];
}

static void report(const char *name, uint64_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        s[i] = s[i] > timer_overhead ? s[i] - timer_overhead : 0;
    uint64_t med = median(s, n);
    printf("PEER name=%s median=%llu min=%llu samples=%zu\n", name, (unsigned long long)med,
           (unsigned long long)s[0], n);
    fflush(stdout);
}

static void skip(const char *name, const char *why)
{
    printf("PEER-SKIP name=%s reason=\"%s: %s\"\n", name, why, strerror(errno));
    fflush(stdout);
}

static uint64_t *samples(size_t n)
{
    uint64_t *s = calloc(n, sizeof *s);
    if (!s) {
        perror("calloc");
        exit(1);
    }
    return s;
}

/* ---- the counter itself ---------------------------------------------------- */

static void measure_timer(void)
{
    enum { N = 4096 };
    uint64_t *s = samples(N);
    for (size_t i = 0; i < N; i++) {
        uint64_t t0 = tick_begin();
        s[i] = tick_end() - t0;
    }
    timer_overhead = median(s, N);
    printf("PEER-INFO timer_overhead=%llu\n", (unsigned long long)timer_overhead);
    free(s);
}

/* ---- a system call that does nothing -------------------------------------- */

static void bench_null_syscall(size_t n)
{
    uint64_t *s = samples(n);
    for (size_t i = 0; i < n + WARMUP; i++) {
        long ret;
        uint64_t t0 = tick_begin();
        __asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_getppid) : "rcx", "r11", "memory");
        uint64_t t1 = tick_end();
        if (i >= WARMUP)
            s[i - WARMUP] = t1 - t0;
    }
    report("null_syscall", s, n);
    free(s);
}

/* ---- round trips between two processes through file descriptors ---------- */

/* One byte (pipe) or one counter (eventfd) goes to the child and back. */
static void bench_fd_pingpong(const char *name, int use_eventfd, size_t n)
{
    int there[2], back[2];
    if (use_eventfd) {
        there[0] = there[1] = eventfd(0, 0);
        back[0] = back[1] = eventfd(0, 0);
        if (there[0] < 0 || back[0] < 0)
            return skip(name, "eventfd");
    } else if (pipe(there) || pipe(back)) {
        return skip(name, "pipe");
    }
    size_t len = use_eventfd ? 8 : 1;
    uint64_t token = 1;
    pid_t child = fork();
    if (child < 0)
        return skip(name, "fork");
    if (child == 0) {
        uint64_t v;
        for (size_t i = 0; i < n + WARMUP; i++) {
            if (read(there[0], &v, len) != (ssize_t)len || write(back[1], &token, len) != (ssize_t)len)
                _exit(1);
        }
        _exit(0);
    }
    uint64_t *s = samples(n), v;
    for (size_t i = 0; i < n + WARMUP; i++) {
        uint64_t t0 = tick_begin();
        if (write(there[1], &token, len) != (ssize_t)len || read(back[0], &v, len) != (ssize_t)len) {
            skip(name, "write/read");
            break;
        }
        uint64_t t1 = tick_end();
        if (i >= WARMUP)
            s[i - WARMUP] = t1 - t0;
    }
    waitpid(child, NULL, 0);
    report(name, s, n);
    free(s);
    close(there[0]), close(back[0]);
    if (!use_eventfd)
        close(there[1]), close(back[1]);
}

/* ---- futex ping-pong: the closest thing to a synchronous IPC round trip --- */

/* The turn word: 0 = the timing side's turn, 1 = the other side's. */
struct turn {
    int word;
    int op_flags; /* FUTEX_PRIVATE_FLAG between threads, 0 across processes */
    size_t rounds;
};

static void futex_wait(struct turn *t, int val)
{
    while (__atomic_load_n(&t->word, __ATOMIC_ACQUIRE) == val)
        syscall(SYS_futex, &t->word, FUTEX_WAIT | t->op_flags, val, NULL, NULL, 0);
}

static void futex_pass(struct turn *t, int val)
{
    __atomic_store_n(&t->word, val, __ATOMIC_RELEASE);
    syscall(SYS_futex, &t->word, FUTEX_WAKE | t->op_flags, 1, NULL, NULL, 0);
}

static void *futex_partner(void *arg)
{
    struct turn *t = arg;
    for (size_t i = 0; i < t->rounds; i++) {
        futex_wait(t, 0);
        futex_pass(t, 0);
    }
    return NULL;
}

static void bench_futex(const char *name, int across_processes, size_t n)
{
    struct turn *t = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED)
        return skip(name, "mmap");
    t->word = 0;
    t->op_flags = across_processes ? 0 : FUTEX_PRIVATE_FLAG;
    t->rounds = n + WARMUP;
    pthread_t thread;
    pid_t child = -1;
    if (across_processes) {
        child = fork();
        if (child < 0)
            return skip(name, "fork");
        if (child == 0) {
            futex_partner(t);
            _exit(0);
        }
    } else if ((errno = pthread_create(&thread, NULL, futex_partner, t)) != 0) {
        return skip(name, "pthread_create");
    }
    uint64_t *s = samples(n);
    for (size_t i = 0; i < n + WARMUP; i++) {
        uint64_t t0 = tick_begin();
        futex_pass(t, 1);
        futex_wait(t, 1);
        uint64_t t1 = tick_end();
        if (i >= WARMUP)
            s[i - WARMUP] = t1 - t0;
    }
    if (across_processes)
        waitpid(child, NULL, 0);
    else
        pthread_join(thread, NULL);
    report(name, s, n);
    free(s);
    munmap(t, PAGE);
}

/* ---- page faults ------------------------------------------------------------ */

static char *fresh_region(size_t pages)
{
    char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    madvise(p, pages * PAGE, MADV_NOHUGEPAGE); /* one fault per 4 KiB page */
    return p;
}

/* The kernel's own anonymous fault: first write to each page (it clears the page). */
static void bench_anon_fault(size_t pages)
{
    char *p = fresh_region(pages);
    if (!p)
        return skip("anon_fault_write", "mmap");
    uint64_t *s = samples(pages);
    for (size_t i = 0; i < pages; i++) {
        volatile char *b = p + i * PAGE;
        uint64_t t0 = tick_begin();
        *b = 1;
        s[i] = tick_end() - t0;
    }
    report("anon_fault_write", s, pages);
    free(s);
    munmap(p, pages * PAGE);
}

/* A user-space pager through userfaultfd: the server side. */
struct uffd_server {
    int fd;
    int zeropage; /* UFFDIO_ZEROPAGE, else UFFDIO_COPY of one page */
    size_t faults;
    char *src;
};

static int uffd_serve(struct uffd_server *u)
{
    for (size_t done = 0; done < u->faults;) {
        struct uffd_msg msg;
        ssize_t got = read(u->fd, &msg, sizeof msg);
        if (got < 0 && errno == EINTR)
            continue;
        if (got != (ssize_t)sizeof msg)
            return -1;
        if (msg.event != UFFD_EVENT_PAGEFAULT)
            continue;
        uint64_t page = msg.arg.pagefault.address & ~(PAGE - 1);
        int r;
        if (u->zeropage) {
            struct uffdio_zeropage z = {.range = {.start = page, .len = PAGE}};
            r = ioctl(u->fd, UFFDIO_ZEROPAGE, &z);
        } else {
            struct uffdio_copy c = {.dst = page, .src = (uint64_t)(uintptr_t)u->src, .len = PAGE};
            r = ioctl(u->fd, UFFDIO_COPY, &c);
        }
        if (r != 0 && errno != EEXIST)
            return -1;
        done++;
    }
    return 0;
}

static void *uffd_server_thread(void *arg)
{
    return (void *)(intptr_t)uffd_serve(arg);
}

/* Each timed access faults on a missing page of a registered region, and the
 * server (a thread, or a forked process holding the descriptor) answers. */
static void bench_uffd(const char *name, int zeropage, int server_process, size_t pages)
{
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
    if (fd < 0)
        return skip(name, "userfaultfd");
    struct uffdio_api api = {.api = UFFD_API};
    char *p = fresh_region(pages);
    struct uffdio_register reg = {.range = {.start = (uint64_t)(uintptr_t)p, .len = pages * PAGE},
                                  .mode = UFFDIO_REGISTER_MODE_MISSING};
    if (ioctl(fd, UFFDIO_API, &api) || !p || ioctl(fd, UFFDIO_REGISTER, &reg)) {
        skip(name, "UFFDIO_API/UFFDIO_REGISTER");
        close(fd);
        return;
    }
    static char page_src[PAGE] __attribute__((aligned(4096)));
    memset(page_src, 0x5a, sizeof page_src);
    struct uffd_server u = {.fd = fd, .zeropage = zeropage, .faults = pages, .src = page_src};
    pthread_t thread;
    pid_t child = -1;
    if (server_process) {
        child = fork();
        if (child < 0)
            return skip(name, "fork");
        if (child == 0)
            _exit(uffd_serve(&u) ? 1 : 0);
    } else if ((errno = pthread_create(&thread, NULL, uffd_server_thread, &u)) != 0) {
        return skip(name, "pthread_create");
    }
    uint64_t *s = samples(pages);
    for (size_t i = 0; i < pages; i++) {
        volatile char *b = p + i * PAGE;
        uint64_t t0 = tick_begin();
        if (zeropage)
            (void)*b; /* a read fault: the zero page answers it */
        else
            *b = 1;
        s[i] = tick_end() - t0;
    }
    if (server_process)
        waitpid(child, NULL, 0);
    else
        pthread_join(thread, NULL);
    report(name, s, pages);
    free(s);
    munmap(p, pages * PAGE);
    close(fd);
}

/* ---- as init ---------------------------------------------------------------- */

/* As PID 1 of an initramfs without /dev/console there is no stdout: get one. */
static void console_as_stdout(void)
{
    if (fcntl(1, F_GETFD) >= 0)
        return;
    mkdir("/dev", 0755);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    int fd = open("/dev/console", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
}

static void info(void)
{
    struct utsname u;
    if (uname(&u) == 0)
        printf("PEER-INFO kernel=\"%s %s\"\n", u.release, u.version);
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            line[strcspn(line, "\n")] = 0;
            printf("PEER-INFO cpu=\"%s\"\n", strchr(line, ':') ? strchr(line, ':') + 2 : line);
            break;
        }
    }
    if (f)
        fclose(f);
}

int main(void)
{
    int as_init = getpid() == 1;
    if (as_init) {
        console_as_stdout();
        mkdir("/proc", 0555);
        mount("proc", "/proc", "proc", 0, NULL);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    info();
    measure_timer();
    bench_null_syscall(20000);
    bench_futex("futex_pingpong_rt_threads", 0, 4000);
    bench_futex("futex_pingpong_rt_procs", 1, 4000);
    bench_fd_pingpong("pipe_pingpong_rt", 0, 4000);
    bench_fd_pingpong("eventfd_pingpong_rt", 1, 4000);
    bench_anon_fault(8192);
    bench_uffd("uffd_zeropage_rt_thread", 1, 0, 4096);
    bench_uffd("uffd_copy_rt_process", 0, 1, 4096);
    printf("PEER-DONE\n");
    fflush(stdout);
    if (as_init) {
        sync();
        reboot(RB_POWER_OFF);
    }
    return 0;
}
