/* The crasher: a user program that dies on purpose, one way per run, so
 * that tests can check the kernel stops a faulting task (and only it) and
 * reports the right exception.  Its argument word is the enum crash_kind
 * (crasher.h, which also lists the exception each kind must produce).
 *
 * Each crash is one small noinline function whose faulting instruction is
 * written in inline assembly (or reached through volatile accesses the
 * compiler must keep), so optimization cannot remove, fold or replace it:
 * `objdump -d build/crasher.elf` shows each one.  Addresses go through
 * fixed registers where the choice of base register matters (a load based
 * on RSP or RBP would raise #SS instead of #GP).  A crash function returns
 * only when the crash did not happen; main then reports that as a failure
 * with exit code 1. */
#include <mica/ipc.h>

#include "crasher.h"

#define WILD_ADDR 0x7000000000ull               /* no loader maps anything here */
#define NONCANONICAL_ADDR 0x8000000000000000ull /* non-canonical with 4- and 5-level paging */
#define STACK_FRAME_BYTES 2048                  /* 32 frames exhaust the 64 KiB stack */
#define KBD_PORT 0x60

/* A word of .rodata, mapped read-only by the loader. */
static const uint64_t rodata_word = 0x0123456789abcdefull;

/* One `ret` in .data: mapped read-write, never executable. */
static uint8_t data_code[16] = {0xc3};

/* Depth at which the recursion would stop: never reached, but it keeps the
 * recursion visibly bounded to the compiler. */
static volatile uint64_t stack_depth_limit = ~0ull;

/* Store to an address no one mapped: #PF, not present, write. */
static __attribute__((noinline)) void crash_pf_wild(void)
{
    __asm__ volatile("movq $0x5a, (%0)" : : "a"(WILD_ADDR) : "memory");
}

/* Load from address 0: #PF, not present, read. */
static __attribute__((noinline)) void crash_null(void)
{
    uint64_t v;
    __asm__ volatile("movq (%1), %0" : "=r"(v) : "a"(0ull) : "memory");
    (void)v;
}

/* Store to our own read-only data: #PF, protection, write. */
static __attribute__((noinline)) void crash_write_rodata(void)
{
    __asm__ volatile("movq $0x5a, (%0)" : : "a"(&rodata_word) : "memory");
}

/* Call into writable data: #PF, protection, instruction fetch (NX).  The
 * call's push would land in the red zone of this leaf function, so step
 * over it first. */
static __attribute__((noinline)) void crash_exec_data(void)
{
    __asm__ volatile("subq $128, %%rsp\n\t"
                     "call *%0\n\t"
                     "addq $128, %%rsp"
                     :
                     : "a"(data_code)
                     : "memory");
}

static __attribute__((noinline)) void crash_ud(void)
{
    __asm__ volatile("ud2");
}

/* Read CR3, which only ring 0 may: #GP(0). */
static __attribute__((noinline)) void crash_gp_privileged(void)
{
    uint64_t v;
    __asm__ volatile("movq %%cr3, %0" : "=a"(v));
    (void)v;
}

/* Load through a non-canonical address (based on RAX, not RSP/RBP): #GP(0). */
static __attribute__((noinline)) void crash_gp_noncanonical(void)
{
    uint64_t v;
    __asm__ volatile("movq (%1), %0" : "=r"(v) : "a"(NONCANONICAL_ADDR) : "memory");
    (void)v;
}

/* Divide RDX:RAX = 1 by a register holding 0: #DE. */
static __attribute__((noinline)) void crash_de(void)
{
    uint64_t lo = 1, hi = 0;
    __asm__ volatile("divq %2" : "+a"(lo), "+d"(hi) : "c"(0ull));
    (void)lo;
    (void)hi;
}

/* int3: #BP if the gate allowed ring 3, #GP on a DPL 0 gate (crasher.h). */
static __attribute__((noinline)) void crash_bp(void)
{
    __asm__ volatile("int3" : : : "memory");
}

/* Recurse with a 2 KiB frame that is written at both ends, and whose
 * address escapes to the next call (so neither the frame nor the
 * recursion can be optimized away) until the stack runs out: #PF, not
 * present, write, just below the stack. */
static __attribute__((noinline)) uint64_t recurse(uint64_t depth, volatile uint8_t *up)
{
    volatile uint8_t frame[STACK_FRAME_BYTES];
    frame[0] = (uint8_t)depth;
    frame[STACK_FRAME_BYTES - 1] = (uint8_t)depth;
    if (depth == stack_depth_limit)
        return up[0];
    return recurse(depth + 1, frame) + frame[0] + up[0];
}

static __attribute__((noinline)) void crash_stack_overflow(void)
{
    volatile uint8_t top = 0;
    (void)recurse(0, &top);
}

/* Read the keyboard port with IOPL 0 and no I/O bitmap: #GP(0). */
static __attribute__((noinline)) void crash_io_port(void)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "i"(KBD_PORT));
    (void)v;
}

/* The crash of each kind (none for CRASH_EXIT_OK); each returns only if
 * its crash did not happen. */
static void (*const crashes[CRASH_NKINDS])(void) = {
    [CRASH_PAGE_FAULT_WILD] = crash_pf_wild,
    [CRASH_NULL] = crash_null,
    [CRASH_WRITE_RODATA] = crash_write_rodata,
    [CRASH_EXEC_DATA] = crash_exec_data,
    [CRASH_UD] = crash_ud,
    [CRASH_GP_PRIVILEGED] = crash_gp_privileged,
    [CRASH_GP_NONCANONICAL] = crash_gp_noncanonical,
    [CRASH_DE] = crash_de,
    [CRASH_BP] = crash_bp,
    [CRASH_STACK_OVERFLOW] = crash_stack_overflow,
    [CRASH_IO_PORT] = crash_io_port,
};

int main(const struct mica_bootinfo *bi, uint64_t arg)
{
    (void)bi;
    if (arg >= CRASH_NKINDS) {
        mica_printf("[FAIL] crasher: unknown kind %llu\n", (unsigned long long)arg);
        return 2;
    }
    enum crash_kind k = (enum crash_kind)arg;
    mica_printf("crasher: about to %s\n", crash_name(k));
    if (crashes[k] != NULL)
        crashes[k]();
    if (k == CRASH_REPEAT) {
        /* A flood, as a program looping on a failing call makes one: the
         * log must show it in a few counted lines. */
        for (int i = 0; i < 12345; i++)
            mica_printf("[WARN] crasher: the same line again\n");
        mica_printf("crasher: done repeating\n");
        return 3;
    }
    if (k == CRASH_EXIT_OK) {
        mica_printf("crasher: exiting normally\n");
        return 0;
    }
    mica_printf("[FAIL] crasher: %s did not crash\n", crash_name(k));
    return 1;
}
