/* The register frame that trap entry (entry.asm) builds on the stack.
 *
 * BEWARE: entry.asm pushes the general registers in exactly the reverse of
 * this order, and the CPU pushes rip..ss in this order.  Every offset
 * entry.asm uses comes from asm_offsets.c (TF_*), and both sides check the
 * slot of every field, so a change here that entry.asm does not follow
 * fails the build. */
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

/* Every field at the slot entry.asm and the CPU put it in.  entry.asm reads
 * the fields by the generated TF_* names and checks its push order against
 * them with %if, so a field moved here fails the build on both sides. */
#define TF_SLOT(field, n) _Static_assert(offsetof(struct trap_frame, field) == (n)*8, "trap_frame." #field)
TF_SLOT(r15, 0);
TF_SLOT(r14, 1);
TF_SLOT(r13, 2);
TF_SLOT(r12, 3);
TF_SLOT(r11, 4);
TF_SLOT(r10, 5);
TF_SLOT(r9, 6);
TF_SLOT(r8, 7);
TF_SLOT(rbp, 8);
TF_SLOT(rdi, 9);
TF_SLOT(rsi, 10);
TF_SLOT(rdx, 11);
TF_SLOT(rcx, 12);
TF_SLOT(rbx, 13);
TF_SLOT(rax, 14);
TF_SLOT(vector, 15);
TF_SLOT(error, 16);
TF_SLOT(rip, 17); /* from here on, the order the CPU pushes (SDM vol. 3, 6.14.2) */
TF_SLOT(cs, 18);
TF_SLOT(rflags, 19);
TF_SLOT(rsp, 20);
TF_SLOT(ss, 21);
#undef TF_SLOT
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
