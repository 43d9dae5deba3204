/* test=boot: the boot foundation checks itself from inside the guest. */
#include <stddef.h>

#include "arch/cpu.h"
#include "arch/desc.h"
#include "arch/layout.h"
#include "arch/paging.h"
#include "base/fmt.h"
#include "base/str.h"
#include "boot/multiboot2.h"
#include "mica/arch.h"
#include "mica/bootmem.h"
#include "mica/kernel.h"
#include "mica/ksym.h"
#include "mica/ktest.h"

void kmain(uint32_t magic, uint32_t info_phys, uint32_t la57);
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __kernel_end[];
extern char boot_pml4[], boot_pml5[];

/* True when no byte of [base, end) is in the free set. */
static bool not_free(uint64_t base, uint64_t end)
{
    return !pm_overlaps(bootmem_free(), base, end);
}

KTEST(boot, paging_mode_matches_cpu_and_cmdline)
{
    bool want5 = cpu_features.la57 && !str_has_word(kernel_cmdline, "paging=4");
    KT_CHECK(paging_levels == (want5 ? 5u : 4u));
    KT_CHECK(((read_cr4() & CR4_LA57) != 0) == want5);
}

KTEST(boot, kernel_tables_not_free)
{
    KT_CHECK(bootmem_verify(kernel_root()) == 0);
    KT_CHECK((read_cr3() & PTE_ADDR_MASK) == kernel_root());
    KT_CHECK(not_free(kernel_root(), kernel_root() + PAGE_SIZE));
}

KTEST(boot, boot_stub_tables_not_free)
{
    /* The boot stub's section is linked at its physical address. */
    uint64_t pml4 = (uint64_t)boot_pml4;
    uint64_t pml5 = (uint64_t)boot_pml5;
    KT_CHECK(not_free(pml4, pml4 + PAGE_SIZE));
    KT_CHECK(not_free(pml5, pml5 + PAGE_SIZE));
    KT_CHECK(bootmem_verify(paging_levels == 5 ? pml5 : pml4) == 0);
}

/* Scratch for the proof's own test: a copy of the free set with one in-use
 * range put back on purpose. */
static struct pm_range doctored_store[1024];
static struct pm_set doctored;

/* The proof on the boot-time free set with [base, end) added: must fail. */
static bool proof_sees(uint64_t base, uint64_t end)
{
    const struct pm_set *f = bootmem_initial_free();
    pm_init(&doctored, doctored_store, sizeof doctored_store / sizeof doctored_store[0]);
    for (size_t i = 0; i < f->n; i++)
        pm_add(&doctored, f->r[i].base, f->r[i].end);
    pm_add(&doctored, base & ~(uint64_t)(PAGE_SIZE - 1), (end + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1));
    return bootmem_verify_set(&doctored, 0, false) > 0;
}

KTEST(boot, boot_info_modules_image_not_free)
{
    /* The free set as it was before the kernel took anything (the pool and
     * init's frames have been carved out of the live one since), checked
     * by the proof against the raw multiboot2 block and the linker. */
    KT_CHECK(bootmem_verify_set(bootmem_initial_free(), 0, true) == 0);
    KT_CHECK(bootmem_verify(kernel_root()) == 0);
    uint64_t kbase, kend;
    arch_kernel_image(&kbase, &kend);
    const struct pm_set *f = bootmem_initial_free();
    KT_CHECK(!pm_overlaps(f, boot_info_phys, boot_info_phys + boot_info.total_size));
    /* The image has no gaps GRUB could fill (see linker.ld.S). */
    KT_CHECK(boot_info_phys >= kend || boot_info_phys + boot_info.total_size <= kbase);
    KT_CHECK(!pm_overlaps(f, kbase, kend));
    KT_CHECK(!pm_overlaps(f, 0, 1ull << 20));
    for (size_t i = 0; i < boot_info.nmodules; i++)
        KT_CHECK(!pm_overlaps(f, boot_info.modules[i].start, boot_info.modules[i].end));
    struct ksym_range syms[16];
    unsigned long n = ksym_loaded_ranges(&boot_info, syms, 16);
    for (unsigned long i = 0; i < n; i++)
        KT_CHECK(!pm_overlaps(f, syms[i].base, syms[i].end));
}

KTEST(boot, memory_proof_sees_each_missing_reservation)
{
    /* Each reservation taken out on purpose, one at a time: the proof
     * must find it. */
    KT_CHECK(!proof_sees(0, 0)); /* the copy itself passes */
    KT_CHECK(proof_sees(boot_info_phys, boot_info_phys + boot_info.total_size));
    for (size_t i = 0; i < boot_info.nmodules; i++)
        KT_CHECK(proof_sees(boot_info.modules[i].start, boot_info.modules[i].end));
    struct ksym_range syms[16];
    unsigned long n = ksym_loaded_ranges(&boot_info, syms, 16);
    KT_CHECK(n > 0);
    for (unsigned long i = 0; i < n; i++)
        KT_CHECK(proof_sees(syms[i].base, syms[i].end));
    uint64_t text = virt_to_phys_kernel_image(__text_start);
    KT_CHECK(proof_sees(text, text + PAGE_SIZE));
    uint64_t last = virt_to_phys_kernel_image(__kernel_end) - PAGE_SIZE;
    KT_CHECK(proof_sees(last, last + PAGE_SIZE));
    KT_CHECK(proof_sees((uint64_t)boot_pml4, (uint64_t)boot_pml4 + PAGE_SIZE));
    KT_CHECK(proof_sees(0x9f000, 0xa0000));
    /* A page table of the live tree, put into the live free set's copy. */
    const struct pm_set *f = bootmem_free();
    pm_init(&doctored, doctored_store, sizeof doctored_store / sizeof doctored_store[0]);
    for (size_t i = 0; i < f->n; i++)
        pm_add(&doctored, f->r[i].base, f->r[i].end);
    KT_CHECK(bootmem_verify_set(&doctored, kernel_root(), false) == 0);
    pm_add(&doctored, kernel_root(), kernel_root() + PAGE_SIZE);
    KT_CHECK(bootmem_verify_set(&doctored, kernel_root(), false) > 0);
}

KTEST(boot, free_set_sorted_aligned_in_available_ram)
{
    const struct pm_set *f = bootmem_free();
    KT_CHECK(f->n > 0);
    for (size_t i = 0; i < f->n; i++) {
        KT_CHECK(f->r[i].base < f->r[i].end);
        KT_CHECK(f->r[i].base % PAGE_SIZE == 0 && f->r[i].end % PAGE_SIZE == 0);
        if (i > 0)
            KT_CHECK(f->r[i - 1].end < f->r[i].base);
        /* Inside an available entry, and touching no other kind. */
        bool inside = false;
        for (size_t j = 0; j < boot_info.nmmap; j++) {
            const struct mb2_mmap_entry *e = &boot_info.mmap[j];
            bool overlap = f->r[i].base < e->base + e->length && e->base < f->r[i].end;
            if (e->type == MB2_MMAP_AVAILABLE && e->base <= f->r[i].base &&
                f->r[i].end <= e->base + e->length)
                inside = true;
            if (e->type != MB2_MMAP_AVAILABLE)
                KT_CHECK(!overlap);
        }
        KT_CHECK(inside);
    }
}

KTEST(boot, kernel_sections_have_their_rights)
{
    uint64_t pa, fl, root = kernel_root();
    KT_CHECK(pt_translate(root, (uint64_t)__text_start, &pa, &fl));
    KT_CHECK(!(fl & PTE_W) && !(fl & PTE_NX) && !(fl & PTE_U));
    KT_CHECK(pa == virt_to_phys_kernel_image(__text_start));
    KT_CHECK(pt_translate(root, (uint64_t)__rodata_start, &pa, &fl));
    KT_CHECK(!(fl & PTE_W) && (fl & PTE_NX));
    KT_CHECK(pt_translate(root, (uint64_t)__data_start, &pa, &fl));
    KT_CHECK((fl & PTE_W) && (fl & PTE_NX));
    KT_CHECK(pt_translate(root, (uint64_t)__kernel_end - 1, &pa, &fl));
    KT_CHECK((fl & PTE_W) && (fl & PTE_NX));
}

KTEST(boot, direct_map_is_nx_and_text_alias_read_only)
{
    uint64_t pa, fl, root = kernel_root();
    uint64_t text_pa = virt_to_phys_kernel_image(__text_start);
    KT_CHECK(pt_translate(root, HHDM_BASE + text_pa, &pa, &fl));
    KT_CHECK(pa == text_pa && !(fl & PTE_W) && (fl & PTE_NX));
    const struct pm_set *f = bootmem_free();
    KT_CHECK(pt_translate(root, HHDM_BASE + f->r[0].base, &pa, &fl));
    KT_CHECK(pa == f->r[0].base && (fl & PTE_W) && (fl & PTE_NX));
    /* The last free byte is reachable through the direct map. */
    uint64_t last = f->r[f->n - 1].end - 1;
    KT_CHECK(pt_translate(root, HHDM_BASE + last, &pa, &fl) && pa == last);
}

/* Leaf-walk state: counts user-accessible and low (identity) mappings. */
struct leaf_scan {
    unsigned user_tables;
};

static void count_user_tables(uint64_t table_pa, void *arg)
{
    struct leaf_scan *s = arg;
    const uint64_t *t = phys_to_virt(table_pa);
    for (unsigned i = 0; i < 512; i++)
        if ((t[i] & PTE_P) && (t[i] & PTE_U))
            s->user_tables++;
}

KTEST(boot, no_user_pages_and_no_identity_map)
{
    struct leaf_scan s = {0};
    arch_pt_for_each_table(kernel_root(), count_user_tables, &s);
    KT_CHECK(s.user_tables == 0);
    uint64_t pa, fl;
    KT_CHECK(!pt_translate(kernel_root(), KERNEL_PHYS_BASE, &pa, &fl));
    KT_CHECK(!pt_translate(kernel_root(), 0, &pa, &fl));
}

KTEST(boot, protections_enabled)
{
    KT_CHECK(rdmsr(MSR_EFER) & EFER_NXE);
    KT_CHECK(read_cr0() & CR0_WP);
    KT_CHECK(((read_cr4() & CR4_SMEP) != 0) == cpu_features.smep);
    KT_CHECK(((read_cr4() & CR4_SMAP) != 0) == cpu_features.smap);
    KT_CHECK(((read_cr4() & CR4_UMIP) != 0) == cpu_features.umip);
}

KTEST(boot, boot_info_read_back_through_direct_map)
{
    const uint32_t *hdr = phys_to_virt(boot_info_phys);
    KT_CHECK(hdr[0] == boot_info.total_size);
    KT_CHECK(boot_info.ndiags_total == 0); /* GRUB's own output parses cleanly */
    KT_CHECK(boot_info.cmdline != NULL && boot_info.have_mmap && boot_info.have_elf_sections);
    KT_CHECK(boot_info.rsdp_old != NULL || boot_info.rsdp_new != NULL);
}

KTEST(boot, symbols_resolve)
{
    uint64_t off = 1;
    const char *name = ksym_lookup((uint64_t)kmain, &off);
    KT_CHECK(name != NULL && str_eq(name, "kmain") && off == 0);
    KT_CHECK(ksym_address("kmain") == (uint64_t)kmain);
    KT_CHECK(ksym_lookup((uint64_t)kmain + 3, &off) != NULL && off == 3);
    KT_CHECK(ksym_address("no_such_function_in_mica") == 0);
}

KTEST(boot, descriptor_tables_loaded)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) gdtr, idtr;
    uint16_t tr;
    __asm__ volatile("sgdt %0; sidt %1; str %2" : "=m"(gdtr), "=m"(idtr), "=r"(tr));
    KT_CHECK(gdtr.base >= KERNEL_VMA && idtr.base >= KERNEL_VMA);
    KT_CHECK(idtr.limit == 256 * 16 - 1);
    KT_CHECK(tr == GDT_TSS);
    KT_CHECK(kernel_tss.ist[IST_DOUBLE_FAULT - 1] != 0);
}

KTEST(boot, format_in_ring0)
{
    char buf[64];
    int n = fmt_snprintf(buf, sizeof buf, "%s|%5d|%-3x|%016llx", "mica", -42, 0xab, 0x1234ull);
    KT_CHECK(n == 31 && str_eq(buf, "mica|  -42|ab |0000000000001234"));
}

/* No two live spaces share a PCID: every PCID is handed out once until it
 * is released, 0 comes only when all 4095 are out, and a released PCID is
 * handed out again. */
KTEST(boot, pcid_never_shared)
{
    static uint64_t seen[PCID_COUNT / 64];
    static uint16_t taken[PCID_COUNT];
    unsigned n = 0, dup = 0;
    for (unsigned i = 0; i < PCID_COUNT / 64; i++)
        seen[i] = 0;
    uint16_t mine = pcid_take(); /* as a live space holds one */
    KT_CHECK(mine != 0);
    for (uint16_t p; n < PCID_COUNT && (p = pcid_take()) != 0; n++) {
        dup += (seen[p / 64] >> (p % 64)) & 1;
        seen[p / 64] |= 1ull << (p % 64);
        taken[n] = p;
    }
    KT_CHECK(dup == 0);
    KT_CHECK(n > 0);
    KT_CHECK(((seen[mine / 64] >> (mine % 64)) & 1) == 0); /* a live space's PCID is not handed out again */
    KT_CHECK(pcid_take() == 0);                            /* all out: the shared, always-flushed PCID 0 */
    pcid_release(taken[n / 2]);
    KT_CHECK(pcid_take() == taken[n / 2]);
    for (unsigned i = 0; i < n; i++)
        pcid_release(taken[i]);
    pcid_release(mine);
}
