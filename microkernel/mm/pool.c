/* The kernel object pool; see include/mica/pool.h.
 *
 * Pages: a LIFO free list threaded through the free pages themselves.
 * Slabs, accounts and zeroing are the kmem layer's (mm/kmem.c): a slab page
 * that empties comes back here at once, so the free count returns page for
 * page once the objects are gone. */
#include "mica/pool.h"
#include "mica/arch.h"
#include "mica/bootmem.h"
#include "mica/kmem.h"
#include "mica/log.h"
#include "mica/panic.h"

struct free_node {
    struct free_node *next;
};

static uint64_t pool_base, pool_end;
static struct free_node *free_pages;
static uint64_t pages_total, pages_free;
static uint64_t live[MICA_TAG_COUNT];
static size_t obj_size[MICA_TAG_COUNT];

static const char *const tag_names[MICA_TAG_COUNT] = {
    [MICA_TAG_TASK] = "task",
    [MICA_TAG_THREAD] = "thread",
    [MICA_TAG_ENDPOINT] = "endpoint",
    [MICA_TAG_NOTIFICATION] = "notification",
    [MICA_TAG_HANDLE_TABLE] = "handle table",
    [MICA_TAG_PAGE_TABLE] = "page table",
    [MICA_TAG_KSTACK] = "kernel stack",
    [MICA_TAG_FPU_STATE] = "FPU state",
};

int pool_init(uint64_t bytes)
{
    uint64_t base;
    /* Below 4 GiB is not needed: the direct map covers all RAM by now. */
    if (pm_take((struct pm_set *)bootmem_free(), bytes, PM_PAGE_SIZE, 1ull << 20, PM_PHYS_LIMIT, &base) !=
        PM_OK)
        return -1;
    pool_base = base;
    pool_end = base + bytes;
    for (uint64_t pa = pool_end; pa > pool_base;) {
        pa -= PM_PAGE_SIZE;
        struct free_node *n = phys_to_virt(pa);
        n->next = free_pages;
        free_pages = n;
    }
    pages_total = pages_free = bytes / PM_PAGE_SIZE;
    /* The root of the quota tree is the whole pool (docs/kernel.md). */
    kmem_init(pages_total);
    return 0;
}

void pool_range(uint64_t *base, uint64_t *end)
{
    *base = pool_base;
    *end = pool_end;
}

void *pool_page_take(void)
{
    struct free_node *n = free_pages;
    if (n == NULL)
        return NULL;
    free_pages = n->next;
    pages_free--;
    return n;
}

void pool_page_give(void *page)
{
    DEBUG_ASSERT(virt_to_phys_direct(page) >= pool_base && virt_to_phys_direct(page) < pool_end);
    struct free_node *n = page;
    n->next = free_pages;
    free_pages = n;
    pages_free++;
}

void pool_live_add(enum mica_obj_tag tag, int delta)
{
    live[tag] += (uint64_t)(int64_t)delta;
}

void pool_set_obj_size(enum mica_obj_tag tag, size_t size)
{
    ASSERT(size >= sizeof(struct free_node) && size <= 2048);
    obj_size[tag] = (size + 15) & ~(size_t)15;
}

size_t pool_obj_size(enum mica_obj_tag tag)
{
    return obj_size[tag];
}

uint64_t pool_pages_free(void)
{
    return pages_free;
}

void pool_counts(struct mica_obj_counts *out)
{
    for (int i = 0; i < MICA_TAG_COUNT; i++)
        out->live[i] = live[i];
    out->pool_pages_total = pages_total;
    out->pool_pages_free = pages_free;
}

void pool_print_counts(void)
{
    LOG_INFO("pool: %llu of %llu pages free", (unsigned long long)pages_free,
             (unsigned long long)pages_total);
    for (int i = 0; i < MICA_TAG_COUNT; i++)
        kprintf("         %-14s %6llu live\n", tag_names[i], (unsigned long long)live[i]);
    kmem_print_accounts();
}
