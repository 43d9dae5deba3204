/* The IDT, trap dispatch and the register dump of a fatal trap. */
#include <stdbool.h>
#include <stdint.h>

#include "arch/cpu.h"
#include "arch/desc.h"
#include "arch/fpu.h"
#include "arch/layout.h"
#include "arch/trap.h"
#include "base/fmt.h"
#include "mica/arch.h"
#include "mica/bochs.h"
#include "mica/ipc.h"
#include "mica/kernel.h"
#include "mica/ksym.h"
#include "mica/log.h"
#include "mica/object.h"
#include "mica/panic.h"
#include "mica/sched.h"

struct idt_entry {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_entry) == 16, "IDT gate is 16 bytes");

#define IDT_ENTRIES 256
#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */

extern char __kernel_start[], __kernel_end[], __text_start[], __text_end[];

static struct idt_entry idt[IDT_ENTRIES] __attribute__((aligned(16)));
extern const uint64_t trap_stubs[IDT_ENTRIES];

static const struct {
    const char *mnemonic, *name;
} vectors[VEC_EXCEPTIONS] = {
    {"#DE", "divide error"},
    {"#DB", "debug"},
    {"NMI", "non-maskable interrupt"},
    {"#BP", "breakpoint"},
    {"#OF", "overflow"},
    {"#BR", "bound range exceeded"},
    {"#UD", "invalid opcode"},
    {"#NM", "device not available"},
    {"#DF", "double fault"},
    {"#CSO", "coprocessor segment overrun"},
    {"#TS", "invalid TSS"},
    {"#NP", "segment not present"},
    {"#SS", "stack-segment fault"},
    {"#GP", "general protection"},
    {"#PF", "page fault"},
    {"#15", "reserved"},
    {"#MF", "x87 floating-point error"},
    {"#AC", "alignment check"},
    {"#MC", "machine check"},
    {"#XM", "SIMD floating-point"},
    {"#VE", "virtualization"},
    {"#CP", "control protection"},
    {"#22", "reserved"},
    {"#23", "reserved"},
    {"#24", "reserved"},
    {"#25", "reserved"},
    {"#26", "reserved"},
    {"#27", "reserved"},
    {"#HV", "hypervisor injection"},
    {"#VC", "VMM communication"},
    {"#SX", "security exception"},
    {"#31", "reserved"},
};

const char *trap_mnemonic(uint64_t vector)
{
    return vector < VEC_EXCEPTIONS ? vectors[vector].mnemonic : "IRQ";
}

const char *trap_name(uint64_t vector)
{
    return vector < VEC_EXCEPTIONS ? vectors[vector].name : "interrupt";
}

/* Point gate `vec` at `handler`, on IST stack `ist` (0: current stack). */
static void idt_set(unsigned vec, uint64_t handler, uint8_t ist)
{
    idt[vec] = (struct idt_entry){
        .offset_lo = (uint16_t)handler,
        .selector = GDT_KERNEL_CS,
        .ist = ist,
        .type_attr = GATE_INTERRUPT,
        .offset_mid = (uint16_t)(handler >> 16),
        .offset_hi = (uint32_t)(handler >> 32),
    };
}

void idt_init(void)
{
    for (unsigned v = 0; v < IDT_ENTRIES; v++)
        idt_set(v, trap_stubs[v], 0);
    /* A double fault usually means the kernel stack is gone: take it, NMI
     * and machine check on stacks of their own (the TSS's IST). */
    idt_set(VEC_DF, trap_stubs[VEC_DF], IST_DOUBLE_FAULT);
    idt_set(VEC_NMI, trap_stubs[VEC_NMI], IST_NMI);
    idt_set(VEC_MC, trap_stubs[VEC_MC], IST_MACHINE_CHECK);
    /* int3 from ring 3 is a breakpoint (for debuggers), not a #GP. */
    idt[VEC_BP].type_attr = GATE_INTERRUPT | 0x60;
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = {sizeof idt - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

/* Append the meaning of a #PF error code to the dump. */
static void print_pf_error(uint64_t err)
{
    kprintf("  error 0x%llx: %s, %s, %s%s%s%s\n", (unsigned long long)err,
            (err & PF_P) ? "protection violation (present)" : "not-present", (err & PF_W) ? "write" : "read",
            (err & PF_U) ? "user" : "supervisor", (err & PF_I) ? ", instruction fetch" : "",
            (err & PF_RSVD) ? ", reserved bit set" : "", (err & PF_PK) ? ", protection key" : "");
}

/* Append the meaning of a selector error code (#TS #NP #SS #GP). */
static void print_selector_error(uint64_t err)
{
    static const char *const tables[] = {"GDT", "IDT", "LDT", "IDT"};
    if (err == 0) {
        kprintf("  error 0x0 (no selector)\n");
        return;
    }
    kprintf("  error 0x%llx: %s selector index %llu%s\n", (unsigned long long)err, tables[(err >> 1) & 3],
            (unsigned long long)(err >> 3), (err & 1) ? ", external event" : "");
}

/* Print "0x... <symbol+0xoff>" for a code address. */
static void print_code_addr(const char *label, uint64_t addr)
{
    uint64_t off = 0;
    const char *name = ksym_lookup(addr, &off);
    if (name)
        kprintf("  %s 0x%016llx <%s+0x%llx>\n", label, (unsigned long long)addr, name,
                (unsigned long long)off);
    else
        kprintf("  %s 0x%016llx <?>\n", label, (unsigned long long)addr);
}

/* A leaf function (gcc gives it no frame) that faults leaves its caller's
 * return address at RSP, where the frame-pointer walk cannot see it: show
 * that word too when it points into kernel code, marked as a guess. */
static void print_stack_top(const struct trap_frame *tf)
{
    if ((tf->cs & 3) != 0 || tf->rsp < (uint64_t)__kernel_start || tf->rsp + 8 > (uint64_t)__kernel_end ||
        (tf->rsp & 7) != 0)
        return;
    uint64_t word = *(const uint64_t *)tf->rsp;
    uint64_t off = 0;
    const char *name = ksym_lookup(word - 1, &off);
    if (name && word >= (uint64_t)__text_start && word < (uint64_t)__text_end)
        kprintf("    #? 0x%016llx %s+0x%llx (return address at RSP: the caller, if #0 has no frame)\n",
                (unsigned long long)word, name, (unsigned long long)(off + 1));
}

void arch_dump_frame(const struct trap_frame *tf)
{
    print_code_addr("RIP", tf->rip);
    kprintf("  RSP 0x%016llx  RFLAGS 0x%016llx  CS 0x%04llx  SS 0x%04llx\n", (unsigned long long)tf->rsp,
            (unsigned long long)tf->rflags, (unsigned long long)tf->cs, (unsigned long long)tf->ss);
    kprintf("  RAX 0x%016llx  RBX 0x%016llx  RCX 0x%016llx  RDX 0x%016llx\n", (unsigned long long)tf->rax,
            (unsigned long long)tf->rbx, (unsigned long long)tf->rcx, (unsigned long long)tf->rdx);
    kprintf("  RSI 0x%016llx  RDI 0x%016llx  RBP 0x%016llx  R8  0x%016llx\n", (unsigned long long)tf->rsi,
            (unsigned long long)tf->rdi, (unsigned long long)tf->rbp, (unsigned long long)tf->r8);
    kprintf("  R9  0x%016llx  R10 0x%016llx  R11 0x%016llx  R12 0x%016llx\n", (unsigned long long)tf->r9,
            (unsigned long long)tf->r10, (unsigned long long)tf->r11, (unsigned long long)tf->r12);
    kprintf("  R13 0x%016llx  R14 0x%016llx  R15 0x%016llx\n", (unsigned long long)tf->r13,
            (unsigned long long)tf->r14, (unsigned long long)tf->r15);
    kprintf("  CR0 0x%016llx  CR2 0x%016llx  CR3 0x%016llx\n", (unsigned long long)read_cr0(),
            (unsigned long long)read_cr2(), (unsigned long long)read_cr3());
    kprintf("  CR4 0x%016llx  EFER 0x%016llx\n", (unsigned long long)read_cr4(),
            (unsigned long long)rdmsr(MSR_EFER));
    kprintf("  backtrace:\n");
    kprintf("    #0 0x%016llx", (unsigned long long)tf->rip);
    uint64_t off = 0;
    const char *name = ksym_lookup(tf->rip, &off);
    kprintf(" %s+0x%llx\n", name ? name : "?", (unsigned long long)off);
    print_stack_top(tf);
    arch_backtrace(tf->rbp);
}

/* A trap the kernel cannot handle: print everything and stop. */
static __attribute__((noreturn)) void fatal_trap(const struct trap_frame *tf)
{
    int ring = (int)(tf->cs & 3);
    klog(LOG_FAIL, "exception %s (vector %llu, %s) in ring %d", trap_mnemonic(tf->vector),
         (unsigned long long)tf->vector, trap_name(tf->vector), ring);
    switch (tf->vector) {
    case VEC_PF:
        print_pf_error(tf->error);
        kprintf("  CR2 0x%016llx (faulting address)\n", (unsigned long long)read_cr2());
        break;
    case VEC_TS:
    case VEC_NP:
    case VEC_SS:
    case VEC_GP:
        print_selector_error(tf->error);
        break;
    default:
        kprintf("  error 0x%llx\n", (unsigned long long)tf->error);
        break;
    }
    arch_dump_frame(tf);
    panic_stop();
}

/* Access bits of a #PF error code, as the pager protocol gives them. */
static uint64_t fault_access(uint64_t err)
{
    uint64_t a = (err & PF_I) ? MICA_FAULT_EXEC : (err & PF_W) ? MICA_FAULT_WRITE : MICA_FAULT_READ;
    return a | ((err & PF_P) ? MICA_FAULT_PRESENT : 0);
}

/* A ring-3 exception: page faults go to the task's pager when it has one;
 * anything else (or a fault with no pager) stops the task with one line
 * that names it and decodes the fault; every other task goes on. */
static void user_fault(struct trap_frame *tf)
{
    struct thread *t = current;
    if (kernel_breaks & BREAK_USER_FAULT)
        BOCHS_BREAK();
    if (tf->vector == VEC_PF) {
        uint64_t cr2 = read_cr2();
        if (!(tf->error & PF_RSVD) && ipc_fault_to_pager(t, cr2, fault_access(tf->error), tf->rip))
            return;
        char why[64];
        fmt_snprintf(why, sizeof why, "%s %s%s, %s", (tf->error & PF_P) ? "protection" : "not-present",
                     (tf->error & PF_I)   ? "execute"
                     : (tf->error & PF_W) ? "write"
                                          : "read",
                     (tf->error & PF_RSVD) ? ", reserved bit" : "",
                     t->task->pager ? "pager refused" : "no pager");
        task_stop_for_fault(t->task, VEC_PF, cr2, tf->rip, tf->error, why);
        return;
    }
    char why[48];
    fmt_snprintf(why, sizeof why, "%s, error 0x%llx", trap_mnemonic(tf->vector),
                 (unsigned long long)tf->error);
    task_stop_for_fault(t->task, (unsigned)tf->vector, tf->rsp, tf->rip, tf->error, why);
}

void syscall_compat(struct trap_frame *tf);

/* SYSCALL from 32-bit code (entry.asm built a #UD frame): stop the task as
 * for the #UD other CPUs raise, with a reason that names it. */
void syscall_compat(struct trap_frame *tf)
{
    task_stop_for_fault(current->task, VEC_UD, tf->rsp, tf->rip, 0, "SYSCALL from 32-bit code");
    sched_exit();
}

void trap_dispatch(struct trap_frame *tf)
{
    bool from_user = (tf->cs & 3) != 0;
    if (tf->vector == VEC_TIMER) {
        arch_timer_eoi();
        sched_tick();
        if (from_user || current == NULL)
            sched_exit();
        return;
    }
    if (tf->vector == VEC_SPURIOUS)
        return;
    if (!from_user || tf->vector >= VEC_EXCEPTIONS || current == NULL)
        fatal_trap(tf);
    if (tf->vector == VEC_NM && fpu_first_use(current))
        return; /* the instruction runs again, now with the registers */
    user_fault(tf);
    sched_exit();
}
