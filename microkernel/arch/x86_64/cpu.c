/* CPU feature detection and the protections Mica turns on. */
#include "arch/cpu.h"
#include "arch/layout.h"
#include "mica/log.h"

struct cpu_features cpu_features;

void cpu_detect(void)
{
    struct cpu_features *f = &cpu_features;
    struct cpuid_regs r = cpuid(0, 0);
    f->max_leaf = r.eax;
    const uint32_t vendor[3] = {r.ebx, r.edx, r.ecx};
    for (int i = 0; i < 12; i++)
        f->vendor[i] = (char)(vendor[i / 4] >> (8 * (i % 4)));
    f->vendor[12] = '\0';

    r = cpuid(1, 0);
    f->pge = r.edx & (1u << 13);
    f->pcid = r.ecx & (1u << 17);
    if (f->max_leaf >= 7) {
        r = cpuid(7, 0);
        f->smep = r.ebx & (1u << 7);
        f->smap = r.ebx & (1u << 20);
        f->umip = r.ecx & (1u << 2);
        f->la57 = r.ecx & (1u << 16);
    }
    f->max_ext_leaf = cpuid(0x80000000, 0).eax;
    if (f->max_ext_leaf >= 0x80000001) {
        r = cpuid(0x80000001, 0);
        f->nx = r.edx & (1u << 20);
        f->pdpe1gb = r.edx & (1u << 26);
    }
}

void cpu_harden(void)
{
    uint64_t cr4 = read_cr4();
    if (cpu_features.smep)
        cr4 |= CR4_SMEP;
    if (cpu_features.smap)
        cr4 |= CR4_SMAP;
    if (cpu_features.umip)
        cr4 |= CR4_UMIP;
    write_cr4(cr4);
    /* The boot stub set EFER.NXE and CR0.WP; say so only if they held. */
    bool nxe = rdmsr(MSR_EFER) & EFER_NXE;
    bool wp = read_cr0() & CR0_WP;
    klog(nxe && wp ? LOG_OK : LOG_FAIL, "protection: NX %s, WP %s, SMEP %s, SMAP %s, UMIP %s",
         nxe ? "on" : "OFF", wp ? "on" : "OFF", (cr4 & CR4_SMEP) ? "on" : "off (CPU lacks it)",
         (cr4 & CR4_SMAP) ? "on" : "off (CPU lacks it)", (cr4 & CR4_UMIP) ? "on" : "off (CPU lacks it)");
}
