/* Registers by role (docs/abi.md): where the x86_64 ABI keeps a system
 * call's number, arguments, results and status, and an IPC message's info
 * word, message registers and badge, in a saved struct trap_frame.  The
 * generic core names registers only through these (via mica/arch.h).
 * Each is inline and takes constant indexes, so it costs what the field
 * access it replaces cost. */
#ifndef MICA_ARCH_REGS_H
#define MICA_ARCH_REGS_H

#include <stdint.h>

#include "arch/trap.h"

#define ARCH_SYSCALL_ARGS 6 /* RDI, RSI, RDX, R10, R8, R9 */
#define ARCH_MSG_REGS 4     /* RDX, R10, R8, R9 */

/* Argument n (0..5) of a system call, which is also where result n goes. */
static inline __attribute__((always_inline)) uint64_t *arch_syscall_reg(struct trap_frame *tf, unsigned n)
{
    switch (n) {
    case 0:
        return &tf->rdi;
    case 1:
        return &tf->rsi;
    case 2:
        return &tf->rdx;
    case 3:
        return &tf->r10;
    case 4:
        return &tf->r8;
    case 5:
        return &tf->r9;
    default:
        __builtin_trap(); /* a kernel bug: gone when n is a constant */
    }
}

/* The call number (RAX). */
static inline uint64_t arch_syscall_nr(const struct trap_frame *tf)
{
    return tf->rax;
}

/* Argument n (0..5) as the caller passed it. */
static inline __attribute__((always_inline)) uint64_t arch_syscall_arg(const struct trap_frame *tf,
                                                                       unsigned n)
{
    return *arch_syscall_reg((struct trap_frame *)tf, n);
}

/* The timeout of the IPC calls (R12). */
static inline uint64_t arch_syscall_timeout(const struct trap_frame *tf)
{
    return tf->r12;
}

/* Result n (0..5): the register argument n came in. */
static inline __attribute__((always_inline)) void arch_set_result(struct trap_frame *tf, unsigned n,
                                                                  uint64_t v)
{
    *arch_syscall_reg(tf, n) = v;
}

/* The call's status, MICA_OK or a MICA_E* (RAX). */
static inline void arch_set_status(struct trap_frame *tf, uint64_t v)
{
    tf->rax = v;
}

/* A message: the info word (RSI), message registers 0..3 (RDX, R10, R8,
 * R9) and, for the receiver, the badge (RDI). */
static inline uint64_t arch_msg_info(const struct trap_frame *tf)
{
    return tf->rsi;
}

static inline void arch_set_msg_info(struct trap_frame *tf, uint64_t v)
{
    tf->rsi = v;
}

static inline __attribute__((always_inline)) uint64_t arch_msg_reg(const struct trap_frame *tf, unsigned i)
{
    return arch_syscall_arg(tf, 2 + i);
}

static inline __attribute__((always_inline)) void arch_set_msg_reg(struct trap_frame *tf, unsigned i,
                                                                   uint64_t v)
{
    arch_set_result(tf, 2 + i, v);
}

static inline void arch_set_msg_badge(struct trap_frame *tf, uint64_t v)
{
    tf->rdi = v;
}

/* The user instruction pointer: where the thread resumes. */
static inline uint64_t arch_user_pc(const struct trap_frame *tf)
{
    return tf->rip;
}

#endif
