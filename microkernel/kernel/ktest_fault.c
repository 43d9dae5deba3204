/* Deliberate ring-0 faults (test=fault:<kind>): the harness checks that the
 * dump names the faulting function and decodes the error code.  Each
 * trigger is its own non-inlined function so the dump has a name to show. */
#include <stdint.h>

#include "base/str.h"
#include "mica/ktest.h"
#include "mica/log.h"
#include "mica/panic.h"

#define NOINLINE __attribute__((noinline, noclone))

extern char __text_start[];

/* Write to virtual address 0, which is never mapped. */
NOINLINE static void fault_null_write(void)
{
    volatile uint64_t *p = (volatile uint64_t *)0;
    *p = 0xdead;
}

/* Write into the kernel's own (read-only) text. */
NOINLINE static void fault_text_write(void)
{
    volatile uint8_t *p = (volatile uint8_t *)__text_start;
    *p = 0xcc;
}

/* Jump into a data buffer, which is mapped no-execute. */
NOINLINE static void fault_nx_exec(void)
{
    static uint8_t code[16] = {0xc3}; /* ret */
    void (*fn)(void) = (void (*)(void))(uintptr_t)code;
    fn();
}

/* Execute ud2. */
NOINLINE static void fault_invalid_opcode(void)
{
    __asm__ volatile("ud2");
}

/* Load from a non-canonical address: #GP, not #PF. */
NOINLINE static void fault_noncanonical(void)
{
    volatile uint64_t *p = (volatile uint64_t *)0x8000000000000000ull;
    (void)*p;
}

/* Divide by zero with a register divisor the compiler cannot fold. */
NOINLINE static void fault_divide(void)
{
    uint64_t zero = 0;
    __asm__ volatile("" : "+r"(zero));
    __asm__ volatile("xor %%edx, %%edx; mov $1, %%eax; div %0" : : "r"(zero) : "rax", "rdx");
}

/* Fail an assertion. */
NOINLINE static void fault_assert(void)
{
    volatile int two = 2;
    ASSERT(two + two == 5);
}

static const struct {
    const char *kind;
    void (*fn)(void);
} faults[] = {
    {"null-write", fault_null_write}, {"text-write", fault_text_write}, {"nx-exec", fault_nx_exec},
    {"ud", fault_invalid_opcode},     {"gp", fault_noncanonical},       {"de", fault_divide},
    {"assert", fault_assert},
};

bool ktest_fault(const char *kind, unsigned long len)
{
    for (unsigned i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        if (str_nlen(faults[i].kind, len + 1) == len && __builtin_memcmp(faults[i].kind, kind, len) == 0) {
            LOG_INFO("test: deliberate fault \"%s\" follows", faults[i].kind);
            faults[i].fn();
            LOG_FAIL("test: fault \"%s\" did not fault", faults[i].kind);
            return true;
        }
    }
    return false;
}
