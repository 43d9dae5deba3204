/* Thin wrappers over x86_64 instructions the kernel needs. */
#ifndef MICA_ARCH_CPU_H
#define MICA_ARCH_CPU_H

#include <stdbool.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

#define DEFINE_CR(n)                                                                                         \
    static inline uint64_t read_cr##n(void)                                                                  \
    {                                                                                                        \
        uint64_t v;                                                                                          \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                                    \
        return v;                                                                                            \
    }                                                                                                        \
    static inline void write_cr##n(uint64_t v)                                                               \
    {                                                                                                        \
        __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");                                           \
    }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t sub)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(sub));
    return r;
}

static inline uint64_t read_rflags(void)
{
    uint64_t v;
    __asm__ volatile("pushfq; popq %0" : "=r"(v));
    return v;
}

static inline void invlpg(uintptr_t va)
{
    __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}
static inline void cpu_halt(void)
{
    __asm__ volatile("hlt");
}
static inline void cpu_cli(void)
{
    __asm__ volatile("cli" ::: "memory");
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* CPU features the kernel cares about, read once at boot by cpu_init(). */
struct cpu_features {
    bool la57, pdpe1gb, smep, smap, umip, pge, pcid, nx;
    uint32_t max_leaf, max_ext_leaf;
    char vendor[13];
};

extern struct cpu_features cpu_features;

/* Fill cpu_features from CPUID. */
void cpu_detect(void);
/* Enable the protections CPUID allows (SMEP, SMAP, UMIP, PGE) and log them. */
void cpu_harden(void);

#endif
