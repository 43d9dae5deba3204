/* The raw system-call stubs.  Nothing else in a Mica user program executes
 * `syscall`; programs call the typed functions of <mica/ipc.h>, which are
 * built on these.
 *
 * Each stub is the register moves the ABI needs and the instruction,
 * nothing more: the IPC benchmarks measure them.  What the compiler is told
 * may change (abi.h):
 *   - RAX (the status), RCX and R11 (the SYSCALL instruction itself);
 *   - RDI, RSI, RDX, R10, R8 and R9 on every call.  abi.h returns results
 *     in these, and a stub that trusted the unused ones to survive would
 *     break the day the kernel's exit path writes them all.  They are
 *     caller-saved in the SysV ABI anyway, so this costs nothing;
 *   - memory: calls read and write user buffers (IPC buffer, debug text).
 * R12 carries the IPC timeout in and is preserved.
 *
 * Results come back through pointers and are stored whatever the status;
 * the typed layer decides what to keep.  Only the r0 of mica_syscall0..6
 * may be NULL.  After inlining at -O2 the pointers, and the local copies
 * the typed layer makes, vanish into registers. */
#ifndef MICA_SYSCALL_H
#define MICA_SYSCALL_H

#include <mica/abi.h>
#include <stddef.h>
#include <stdint.h>

/* A short IPC message: the info word (RSI) and mr0..mr3 (RDX, R10, R8,
 * R9).  It is defined here because the stubs move it to and from the
 * registers; the helpers that build and read it are in <mica/ipc.h>. */
struct mica_msg {
    uint64_t info;
    uint64_t mr[MICA_MSG_REGS];
};

/* ---- calls without a message: arguments in RDI, RSI, RDX, R10, R8, R9;
 * the first result (RDI) through r0 ---------------------------------------- */

static inline int mica_syscall0(uint64_t n, uint64_t *r0)
{
    uint64_t rax = n, rdi;
    __asm__ volatile("syscall"
                     : "+a"(rax), "=D"(rdi)
                     :
                     : "rsi", "rdx", "r10", "r8", "r9", "rcx", "r11", "memory");
    if (r0 != NULL)
        *r0 = rdi;
    return (int)rax;
}

static inline int mica_syscall1(uint64_t n, uint64_t a0, uint64_t *r0)
{
    uint64_t rax = n, rdi = a0;
    __asm__ volatile("syscall"
                     : "+a"(rax), "+D"(rdi)
                     :
                     : "rsi", "rdx", "r10", "r8", "r9", "rcx", "r11", "memory");
    if (r0 != NULL)
        *r0 = rdi;
    return (int)rax;
}

static inline int mica_syscall2(uint64_t n, uint64_t a0, uint64_t a1, uint64_t *r0)
{
    uint64_t rax = n, rdi = a0, rsi = a1;
    __asm__ volatile("syscall"
                     : "+a"(rax), "+D"(rdi), "+S"(rsi)
                     :
                     : "rdx", "r10", "r8", "r9", "rcx", "r11", "memory");
    if (r0 != NULL)
        *r0 = rdi;
    return (int)rax;
}

static inline int mica_syscall3(uint64_t n, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t *r0)
{
    uint64_t rax = n, rdi = a0, rsi = a1, rdx = a2;
    __asm__ volatile("syscall"
                     : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx)
                     :
                     : "r10", "r8", "r9", "rcx", "r11", "memory");
    if (r0 != NULL)
        *r0 = rdi;
    return (int)rax;
}

static inline int mica_syscall4(uint64_t n, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t *r0)
{
    uint64_t rax = n, rdi = a0, rsi = a1, rdx = a2;
    register uint64_t r10 __asm__("r10") = a3;
    __asm__ volatile("syscall"
                     : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10)
                     :
                     : "r8", "r9", "rcx", "r11", "memory");
    if (r0 != NULL)
        *r0 = rdi;
    return (int)rax;
}

static inline int mica_syscall5(uint64_t n, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                                uint64_t *r0)
{
    uint64_t rax = n, rdi = a0, rsi = a1, rdx = a2;
    register uint64_t r10 __asm__("r10") = a3;
    register uint64_t r8 __asm__("r8") = a4;
    __asm__ volatile("syscall"
                     : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8)
                     :
                     : "r9", "rcx", "r11", "memory");
    if (r0 != NULL)
        *r0 = rdi;
    return (int)rax;
}

static inline int mica_syscall6(uint64_t n, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                                uint64_t a5, uint64_t *r0)
{
    uint64_t rax = n, rdi = a0, rsi = a1, rdx = a2;
    register uint64_t r10 __asm__("r10") = a3;
    register uint64_t r8 __asm__("r8") = a4;
    register uint64_t r9 __asm__("r9") = a5;
    __asm__ volatile("syscall"
                     : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8), "+r"(r9)
                     :
                     : "rcx", "r11", "memory");
    if (r0 != NULL)
        *r0 = rdi;
    return (int)rax;
}

/* One argument in, three results out (RDI, RSI, RDX): SYS_HANDLE_INFO. */
static inline int mica_syscall1_r3(uint64_t n, uint64_t a0, uint64_t *r0, uint64_t *r1, uint64_t *r2)
{
    uint64_t rax = n, rdi = a0, rsi, rdx;
    __asm__ volatile("syscall"
                     : "+a"(rax), "+D"(rdi), "=S"(rsi), "=d"(rdx)
                     :
                     : "r10", "r8", "r9", "rcx", "r11", "memory");
    *r0 = rdi;
    *r1 = rsi;
    *r2 = rdx;
    return (int)rax;
}

/* Two arguments in, three results out (RDI, RSI, RDX): SYS_KMEM_SET. */
static inline int mica_syscall2_r3(uint64_t n, uint64_t a0, uint64_t a1, uint64_t r[3])
{
    uint64_t rax = n, rdi = a0, rsi = a1, rdx;
    __asm__ volatile("syscall"
                     : "+a"(rax), "+D"(rdi), "+S"(rsi), "=d"(rdx)
                     :
                     : "r10", "r8", "r9", "rcx", "r11", "memory");
    r[0] = rdi;
    r[1] = rsi;
    r[2] = rdx;
    return (int)rax;
}

/* One argument in, five results out (RDI, RSI, RDX, R10, R8): SYS_TASK_STATUS. */
static inline int mica_syscall1_r5(uint64_t n, uint64_t a0, uint64_t r[5])
{
    uint64_t rax = n, rdi = a0, rsi, rdx;
    register uint64_t r10 __asm__("r10");
    register uint64_t r8 __asm__("r8");
    __asm__ volatile("syscall"
                     : "+a"(rax), "+D"(rdi), "=S"(rsi), "=d"(rdx), "=r"(r10), "=r"(r8)
                     :
                     : "r9", "rcx", "r11", "memory");
    r[0] = rdi;
    r[1] = rsi;
    r[2] = rdx;
    r[3] = r10;
    r[4] = r8;
    return (int)rax;
}

/* One argument in RDI and a timeout in R12, one result in RDI:
 * SYS_NOTIFY_WAIT (whose timeout, like every IPC timeout, is in R12). */
static inline int mica_syscall1_t(uint64_t n, uint64_t a0, uint64_t timeout, uint64_t *r0)
{
    uint64_t rax = n, rdi = a0;
    register uint64_t r12 __asm__("r12") = timeout;
    __asm__ volatile("syscall"
                     : "+a"(rax), "+D"(rdi)
                     : "r"(r12)
                     : "rsi", "rdx", "r10", "r8", "r9", "rcx", "r11", "memory");
    *r0 = rdi;
    return (int)rax;
}

/* ---- IPC: the message in RSI (info) and RDX, R10, R8, R9 (mr0..mr3) both
 * ways, the badge out in RDI, the timeout in R12 ---------------------------- */

/* SYS_SEND: the endpoint, the message and the timeout in; nothing out. */
static inline int mica_syscall_send(uint64_t ep, const struct mica_msg *m, uint64_t timeout)
{
    uint64_t rax = SYS_SEND, rdi = ep, rsi = m->info, rdx = m->mr[0];
    register uint64_t r10 __asm__("r10") = m->mr[1];
    register uint64_t r8 __asm__("r8") = m->mr[2];
    register uint64_t r9 __asm__("r9") = m->mr[3];
    register uint64_t r12 __asm__("r12") = timeout;
    __asm__ volatile("syscall"
                     : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8), "+r"(r9)
                     : "r"(r12)
                     : "rcx", "r11", "memory");
    return (int)rax;
}

/* SYS_REPLY: the message only.  RDI is not part of a reply and there is
 * no timeout, so the stub loads neither. */
static inline int mica_syscall_reply(const struct mica_msg *m)
{
    uint64_t rax = SYS_REPLY, rsi = m->info, rdx = m->mr[0];
    register uint64_t r10 __asm__("r10") = m->mr[1];
    register uint64_t r8 __asm__("r8") = m->mr[2];
    register uint64_t r9 __asm__("r9") = m->mr[3];
    __asm__ volatile("syscall"
                     : "+a"(rax), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8), "+r"(r9)
                     :
                     : "rdi", "rcx", "r11", "memory");
    return (int)rax;
}

/* SYS_RECV: nothing but the endpoint and the timeout in; the message and
 * the badge out into *m and *badge. */
static inline int mica_syscall_recv(uint64_t ep, struct mica_msg *m, uint64_t timeout, uint64_t *badge)
{
    uint64_t rax = SYS_RECV, rdi = ep, rsi, rdx;
    register uint64_t r10 __asm__("r10");
    register uint64_t r8 __asm__("r8");
    register uint64_t r9 __asm__("r9");
    register uint64_t r12 __asm__("r12") = timeout;
    __asm__ volatile("syscall"
                     : "+a"(rax), "+D"(rdi), "=S"(rsi), "=d"(rdx), "=r"(r10), "=r"(r8), "=r"(r9)
                     : "r"(r12)
                     : "rcx", "r11", "memory");
    *badge = rdi;
    m->info = rsi;
    m->mr[0] = rdx;
    m->mr[1] = r10;
    m->mr[2] = r8;
    m->mr[3] = r9;
    return (int)rax;
}

/* Send *m and receive into it: SYS_CALL and SYS_REPLY_RECV. */
static inline int mica_syscall_exchange(uint64_t n, uint64_t ep, struct mica_msg *m, uint64_t timeout,
                                        uint64_t *badge)
{
    uint64_t rax = n, rdi = ep, rsi = m->info, rdx = m->mr[0];
    register uint64_t r10 __asm__("r10") = m->mr[1];
    register uint64_t r8 __asm__("r8") = m->mr[2];
    register uint64_t r9 __asm__("r9") = m->mr[3];
    register uint64_t r12 __asm__("r12") = timeout;
    __asm__ volatile("syscall"
                     : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8), "+r"(r9)
                     : "r"(r12)
                     : "rcx", "r11", "memory");
    *badge = rdi;
    m->info = rsi;
    m->mr[0] = rdx;
    m->mr[1] = r10;
    m->mr[2] = r8;
    m->mr[3] = r9;
    return (int)rax;
}

#endif
