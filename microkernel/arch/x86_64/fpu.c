/* Per-thread x87/SSE/AVX state; see arch/fpu.h for the model. */
#include <stdint.h>

#include "arch/cpu.h"
#include "arch/fpu.h"
#include "mica/arch.h"
#include "mica/log.h"
#include "mica/object.h"
#include "mica/panic.h"
#include "mica/pool.h"

#define CR0_MP 0x2
#define CR0_EM 0x4
#define CR0_TS 0x8
#define CR0_NE 0x20
#define CR4_OSFXSR 0x200
#define CR4_OSXMMEXCPT 0x400
#define CR4_OSXSAVE 0x40000

#define XCR0_X87 0x1
#define XCR0_SSE 0x2
#define XCR0_AVX 0x4

/* The legacy (FXSAVE) image: 512 bytes; XSAVE adds a 64-byte header and
 * the AVX upper halves.  Only what the clean image sets is named. */
#define FX_FCW 0    /* x87 control word, 16 bits */
#define FX_MXCSR 24 /* 32 bits */
#define FPU_AREA_MAX 1024

struct thread *fpu_owner;
static bool use_xsave;
static uint64_t xcr0;
static size_t area_size;
/* The state every thread starts with: x87 control word 0x37f (all
 * exceptions masked, 64-bit precision), MXCSR 0x1f80, everything else 0;
 * with XSAVE, a zero header (every component in its initial state). */
static uint8_t clean[FPU_AREA_MAX] __attribute__((aligned(64)));

static inline void xsetbv(uint32_t reg, uint64_t v)
{
    __asm__ volatile("xsetbv" : : "c"(reg), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* Save the registers into area (64-byte aligned). */
static inline void fpu_save(void *area)
{
    if (use_xsave)
        __asm__ volatile("xsave64 (%0)" : : "r"(area), "a"(UINT32_MAX), "d"(UINT32_MAX) : "memory");
    else
        __asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

/* Load the registers from area. */
static inline void fpu_load(const void *area)
{
    if (use_xsave)
        __asm__ volatile("xrstor64 (%0)" : : "r"(area), "a"(UINT32_MAX), "d"(UINT32_MAX) : "memory");
    else
        __asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

static inline void clts(void)
{
    __asm__ volatile("clts" ::: "memory");
}
static inline void stts(void)
{
    write_cr0(read_cr0() | CR0_TS);
}

void arch_fpu_init(void)
{
    struct cpuid_regs r1 = cpuid(1, 0);
    bool has_xsave = (r1.ecx & (1u << 26)) != 0;
    bool has_avx = (r1.ecx & (1u << 28)) != 0;
    /* x87 errors as #MF (NE), WAIT obeys TS (MP), no emulation (EM). */
    write_cr0((read_cr0() & ~(uint64_t)CR0_EM) | CR0_MP | CR0_NE);
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    area_size = 512;
    if (has_xsave) {
        write_cr4(read_cr4() | CR4_OSXSAVE);
        uint32_t supported = cpuid(0xd, 0).eax;
        xcr0 = XCR0_X87 | XCR0_SSE | (has_avx && (supported & XCR0_AVX) ? XCR0_AVX : 0);
        xsetbv(0, xcr0);
        area_size = cpuid(0xd, 0).ebx; /* for the components now enabled */
        use_xsave = area_size <= FPU_AREA_MAX;
        if (!use_xsave) {
            xsetbv(0, XCR0_X87 | XCR0_SSE);
            area_size = 512;
        }
    }
    *(uint16_t *)&clean[FX_FCW] = 0x37f;
    *(uint32_t *)&clean[FX_MXCSR] = 0x1f80;
    pool_set_obj_size(MICA_TAG_FPU_STATE, (area_size + 63) & ~(size_t)63);
    /* The registers start clean and unowned; the first use traps. */
    clts();
    fpu_load(clean);
    stts();
    fpu_owner = NULL;
    LOG_OK("FPU: x87, SSE%s per thread, %s, %zu-byte save areas, switched only for threads that use it",
           xcr0 & XCR0_AVX ? ", AVX" : "", use_xsave ? "XSAVE" : "FXSAVE", area_size);
}

bool arch_fpu_thread_init(struct thread *th)
{
    uint8_t *a = kmem_obj_alloc(th->kmem, MICA_TAG_FPU_STATE);
    if (a == NULL)
        return false;
    for (size_t i = 0; i < area_size; i++)
        a[i] = clean[i];
    th->arch.fpu = a;
    th->arch.fpu_key = NULL;
    return true;
}

void arch_fpu_thread_free(struct thread *th)
{
    ASSERT(fpu_owner != th);
    if (th->arch.fpu != NULL)
        kmem_obj_free(th->arch.fpu, MICA_TAG_FPU_STATE);
    th->arch.fpu = NULL;
}

void arch_fpu_thread_dying(struct thread *th)
{
    if (fpu_owner != th)
        return;
    fpu_load(clean);
    stts();
    fpu_owner = NULL;
}

void fpu_switch_slow(struct thread *t)
{
    if (fpu_owner != NULL)
        fpu_save(fpu_owner->arch.fpu); /* TS is clear while someone owns them */
    if (t->arch.fpu_key != NULL) {
        if (fpu_owner == NULL)
            clts();
        fpu_load(t->arch.fpu);
        fpu_owner = t;
    } else {
        fpu_load(clean);
        stts();
        fpu_owner = NULL;
    }
}

bool fpu_first_use(struct thread *t)
{
    if (fpu_owner != NULL || t->arch.fpu_key != NULL || !(read_cr0() & CR0_TS))
        return false;
    /* The registers hold the clean state, which is t's own first state. */
    clts();
    t->arch.fpu_key = t;
    fpu_owner = t;
    return true;
}
