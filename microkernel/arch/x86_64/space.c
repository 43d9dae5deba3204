/* User address spaces on x86_64; see include/mica/space.h.
 *
 * Every user page table comes from the kernel object pool (tag "page
 * table"), so running out is MICA_ENOMEM, never a panic, and all of them
 * are freed when the space dies.  The kernel half (top-level slots 256..511)
 * is copied from the kernel's own root when a space is created; nothing
 * adds top-level kernel entries later, so the copies stay true. */
#include "arch/cpu.h"
#include "arch/desc.h"
#include "arch/layout.h"
#include "arch/paging.h"
#include "arch/percpu.h"
#include "arch/trap.h"
#include "mica/abi.h"
#include "mica/arch.h"
#include "mica/object.h"
#include "mica/pool.h"
#include "mica/space.h"
#include "mica/sched.h"

uint64_t user_top;
struct percpu percpu;


int arch_space_create(struct task *t)
{
    uint64_t root = pool_pt_alloc();
    if (root == 0)
        return -1;
    const uint64_t *k = phys_to_virt(kernel_root());
    uint64_t *u = phys_to_virt(root);
    for (int i = 256; i < 512; i++)
        u[i] = k[i];
    t->root = root;
    /* A PCID may have served a dead task: flush it on first use. */
    t->pcid = cpu_features.pcid ? (uint16_t)(t->id % 4095 + 1) : 0;
    t->cr3 = root | t->pcid;
    t->tlb_stale = 1;
    return 0;
}

/* Free the tables below entry e of a table at `level` (not leaves). */
static void free_tables(uint64_t table_pa, unsigned level, unsigned first, unsigned last)
{
    uint64_t *t = phys_to_virt(table_pa);
    if (level > 1) {
        for (unsigned i = first; i < last; i++) {
            uint64_t e = t[i];
            if ((e & PTE_P) && !(e & PTE_PS))
                free_tables(e & PTE_ADDR_MASK, level - 1, 0, 512);
        }
    }
    pool_page_free(t, MICA_TAG_PAGE_TABLE);
}

void arch_space_destroy(struct task *t)
{
    if (t->root == 0)
        return;
    if ((percpu.cr3 & PTE_ADDR_MASK) == t->root) {
        percpu.cr3 = kernel_root();
        write_cr3(kernel_root());
    }
    free_tables(t->root, paging_levels, 0, 256);
    t->root = 0;
}

struct trap_frame *arch_thread_frame_init(struct thread *th, uint64_t entry, uint64_t stack,
                                          uint64_t arg0, uint64_t arg1)
{
    struct trap_frame *tf = (struct trap_frame *)(th->kstack + PAGE_SIZE) - 1;
    *tf = (struct trap_frame){
        .rip = entry, .cs = GDT_USER_CS | 3, .rflags = 0x202, .rsp = stack, .ss = GDT_USER_DS | 3,
        .rdi = arg0, .rsi = arg1,
    };
    return tf;
}

int user_range_check(uint64_t va, uint64_t pages)
{
    if (pages == 0 || (va & (PAGE_SIZE - 1)) != 0 || pages > (user_top >> PAGE_SHIFT))
        return MICA_EINVAL;
    if (va_canonical(va) != va)
        return MICA_ENONCANON;
    if (va >= user_top)
        return MICA_EKERNEL;
    if (va + pages * PAGE_SIZE > user_top)
        return va + pages * PAGE_SIZE < va ? MICA_ENONCANON : MICA_EKERNEL;
    return MICA_OK;
}

int space_map_page(struct task *t, uint64_t va, uint64_t pa, uint32_t rights)
{
    uint64_t flags = PTE_U;
    if (rights & MICA_MAP_WRITE)
        flags |= PTE_W;
    if (!(rights & MICA_MAP_EXEC))
        flags |= PTE_NX;
    uint64_t old_pa, old_flags;
    if (pt_translate(t->root, va, &old_pa, &old_flags))
        return MICA_EEXISTS;
    if (pt_map(t->root, va, pa, PAGE_SIZE, PAGE_SIZE, flags, pool_pt_alloc) != 0)
        return MICA_ENOMEM;
    return MICA_OK;
}

void space_unmap_page(struct task *t, uint64_t va)
{
    if (!pt_unmap_4k(t->root, va))
        return;
    if ((percpu.cr3 & PTE_ADDR_MASK) == t->root)
        invlpg(va);   /* the current PCID's entry */
    else
        t->tlb_stale = 1; /* its PCID may hold the old entry: flush on next load */
}

bool space_lookup(struct task *t, uint64_t va, uint64_t *pa, uint32_t *rights)
{
    uint64_t flags;
    if (va >= user_top || !pt_translate(t->root, va, pa, &flags) || !(flags & PTE_U))
        return false;
    *rights = MICA_MAP_READ | ((flags & PTE_W) ? MICA_MAP_WRITE : 0) | ((flags & PTE_NX) ? 0 : MICA_MAP_EXEC);
    return true;
}

/* Copy len bytes between kernel buffer k and user address u of the current
 * task, page by page through the direct map (no user-mode fault can happen,
 * and SMAP stays on). */
static int copy_user(uint64_t u, void *k, size_t len, int to_user)
{
    struct task *t = current->task;
    char *kp = k;
    while (len > 0) {
        uint64_t pa;
        uint32_t rights;
        if (!space_lookup(t, u, &pa, &rights) || (to_user && !(rights & MICA_MAP_WRITE)))
            return MICA_EFAULT;
        size_t n = PAGE_SIZE - (u & (PAGE_SIZE - 1));
        if (n > len)
            n = len;
        char *up = phys_to_virt(pa);
        for (size_t i = 0; i < n; i++) {
            if (to_user)
                up[i] = kp[i];
            else
                kp[i] = up[i];
        }
        u += n;
        kp += n;
        len -= n;
    }
    return MICA_OK;
}

int copy_from_user(void *dst, uint64_t src, size_t len)
{
    if (src >= user_top || len > user_top - src)
        return MICA_EFAULT;
    return copy_user(src, dst, len, 0);
}

int copy_to_user(uint64_t dst, const void *src, size_t len)
{
    if (dst >= user_top || len > user_top - dst)
        return MICA_EFAULT;
    return copy_user(dst, (void *)src, len, 1);
}

void arch_switch_space(struct task *t)
{
    arch_switch_space_inline(t);
}

void arch_set_kernel_stack(uint64_t top)
{
    arch_set_kernel_stack_inline(top);
}

void syscall_entry(void);

#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_SFMASK 0xc0000084
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
/* Cleared on SYSCALL: IF (the kernel runs with interrupts off), DF, TF, AC. */
#define SFMASK_BITS 0x40700ull

void syscall_init(void)
{
    user_top = paging_levels == 5 ? (1ull << 56) : (1ull << 47);
    percpu.cr3 = read_cr3();
    if (cpu_features.pcid) {
        /* PCIDE may be set only while CR3's PCID field is 0, as it is. */
        write_cr4(read_cr4() | CR4_PCIDE);
    }
    wrmsr(MSR_GS_BASE, (uint64_t)&percpu);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
    wrmsr(MSR_STAR, ((uint64_t)GDT_USER_CS32 << 48) | ((uint64_t)GDT_KERNEL_CS << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_SFMASK, SFMASK_BITS);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}
