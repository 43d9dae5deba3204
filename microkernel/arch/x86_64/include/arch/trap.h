/* The register frame that trap entry (entry.asm) builds on the stack.
 *
 * BEWARE: entry.asm pushes the general registers in exactly the reverse of
 * this order; the offsets it uses come from asm_offsets.c and are checked
 * below, so a change here that entry.asm does not follow fails the build. */
#ifndef MICA_ARCH_TRAP_H
#define MICA_ARCH_TRAP_H

#include <stddef.h>
#include <stdint.h>

struct trap_frame {
    /* Pushed by the common entry, last pushed first. */
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    /* Pushed by the per-vector stub (error is 0 where the CPU pushes none). */
    uint64_t vector, error;
    /* Pushed by the CPU. */
    uint64_t rip, cs, rflags, rsp, ss;
};

_Static_assert(offsetof(struct trap_frame, rax) == 14 * 8, "entry.asm pushes 15 GPRs");
_Static_assert(offsetof(struct trap_frame, vector) == 15 * 8, "entry.asm: vector after GPRs");
_Static_assert(offsetof(struct trap_frame, rip) == 17 * 8, "CPU frame follows error code");
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "trap frame size");

/* Exception vectors. */
enum {
    VEC_DE = 0,
    VEC_DB,
    VEC_NMI,
    VEC_BP,
    VEC_OF,
    VEC_BR,
    VEC_UD,
    VEC_NM,
    VEC_DF,
    VEC_CSO,
    VEC_TS,
    VEC_NP,
    VEC_SS,
    VEC_GP,
    VEC_PF,
    VEC_RES15,
    VEC_MF,
    VEC_AC,
    VEC_MC,
    VEC_XM,
    VEC_VE,
    VEC_CP,
    VEC_EXCEPTIONS = 32,
    VEC_TIMER = 0x40, /* LAPIC timer, or the PIT through the 8259 */
    VEC_SPURIOUS = 0xff,
    VEC_SYSCALL = 0x100, /* not a vector: marks frames built by syscall_entry */
};

/* #PF error code bits (SDM vol. 3, 4.7). */
#define PF_P 0x1
#define PF_W 0x2
#define PF_U 0x4
#define PF_RSVD 0x8
#define PF_I 0x10
#define PF_PK 0x20
#define PF_SS 0x40

/* Print RIP (symbolized), all registers, control registers and a backtrace. */
void arch_dump_frame(const struct trap_frame *tf);
/* Store the caller's registers into *tf (entry.asm), for panic dumps. */
void arch_capture_regs(struct trap_frame *tf);

/* Called by entry.asm for every vector with the frame it built. */
void trap_dispatch(struct trap_frame *tf);

/* Name of an exception vector, e.g. "page fault". */
const char *trap_name(uint64_t vector);
/* Short mnemonic of an exception vector, e.g. "#PF". */
const char *trap_mnemonic(uint64_t vector);

#endif
