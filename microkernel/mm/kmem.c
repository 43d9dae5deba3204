/* Kernel-memory accounts and the charged allocators; see include/mica/kmem.h.
 *
 * Slabs: each account has its own slab pages per tag, so a page is charged
 * to exactly one account and no account's objects can pin a page another
 * account paid for.  A slab page starts with a 64-byte header (objects stay
 * 64-byte aligned, as XSAVE areas must be); objects come from the page's
 * free list, then from its never-used tail.  A page whose last object is
 * freed goes straight back to the pool. */
#include "mica/kmem.h"
#include "mica/arch.h"
#include "mica/log.h"
#include "mica/panic.h"
#include "mica/pool.h"

struct kmem_account kmem_kernel = {.name = "kernel"};
static struct list accounts = LIST_INIT(accounts);

struct free_obj {
    struct free_obj *next;
};

/* The header of a slab page. */
struct slab {
    struct slab *next, *prev; /* on its account's list for the tag, while it has room */
    struct kmem_account *acct;
    struct free_obj *free; /* freed objects */
    uint16_t inuse;        /* live objects */
    uint16_t fresh;        /* offset of the first never-used object */
    uint16_t tag;
};
#define SLAB_HEAD 64
_Static_assert(sizeof(struct slab) <= SLAB_HEAD, "the slab header fits its 64 bytes");

void kmem_init(uint64_t pool_pages)
{
    kmem_kernel.limit = pool_pages;
    list_push_back(&accounts, &kmem_kernel.link);
}

/* Put s at the head of its account's list for tag.  The lists end in NULL
 * (not a sentinel), so a zeroed account has empty lists: opening one
 * costs task_create no loop. */
static void slab_link(struct slab *s, enum mica_obj_tag tag)
{
    struct slab **head = &s->acct->slabs[tag];
    s->prev = NULL;
    s->next = *head;
    if (*head != NULL)
        (*head)->prev = s;
    *head = s;
}

/* Take s off its account's list for tag. */
static void slab_unlink(struct slab *s, enum mica_obj_tag tag)
{
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        s->acct->slabs[tag] = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
}

bool kmem_charge(struct kmem_account *a, uint64_t pages)
{
    if (pages > a->limit - a->used)
        return false;
    a->used += pages;
    return true;
}

uint64_t kmem_room(const struct kmem_account *a)
{
    return a->limit - a->used;
}

/* Free obj in its slab page without touching any account; the page's
 * account, and 1 when the page went back to the pool (its charge is then
 * the caller's to return). */
static unsigned slab_release(void *obj, enum mica_obj_tag tag, struct kmem_account **acct)
{
    struct slab *s = (struct slab *)((uint64_t)obj & ~(uint64_t)(PAGE_SIZE - 1));
    size_t size = pool_obj_size(tag);
    bool was_full = s->free == NULL && s->fresh + size > PAGE_SIZE;
    DEBUG_ASSERT(s->tag == tag && s->inuse > 0);
    struct free_obj *o = obj;
    o->next = s->free;
    s->free = o;
    s->inuse--;
    pool_live_add(tag, -1);
    *acct = s->acct;
    if (s->inuse == 0) {
        if (!was_full)
            slab_unlink(s, tag);
        pool_page_give(s);
        return 1;
    }
    if (was_full)
        slab_link(s, tag);
    return 0;
}

/* Take `pages` off a's use and `reserved` (part of them) off what it gave
 * away.  A dead account's limit follows its use down and the same pages
 * come off its parent's reservation, up the tree; a dead account whose
 * record nothing names any more frees that record when its use reaches
 * zero (its page, if it empties, comes off the parent too).  A loop, not
 * recursion: the tree may be deep and kernel stacks are one page. */
static void uncharge_up(struct kmem_account *a, uint64_t pages, uint64_t reserved)
{
    while (a != NULL && pages != 0) {
        ASSERT(a->used >= pages && a->given >= reserved);
        a->used -= pages;
        a->given -= reserved;
        if (!a->dead)
            return;
        a->limit -= pages;
        struct kmem_account *p = a->parent, *owner = NULL;
        uint64_t up = pages;
        if (a->used == 0 && a->orphan) {
            list_remove(&a->link);
            up += slab_release(a->record, a->record_tag, &owner); /* a is gone after this */
            ASSERT(owner == p);
        }
        reserved = pages;
        pages = up;
        a = p;
    }
}

void kmem_uncharge(struct kmem_account *a, uint64_t pages)
{
    uncharge_up(a, pages, 0);
}

void *kmem_page_alloc(struct kmem_account *a, enum mica_obj_tag tag)
{
    if (!kmem_charge(a, 1))
        return NULL;
    uint64_t *p = pool_page_take();
    ASSERT(p != NULL); /* the tree's root is the pool: a charge that fits has a page */
    for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
        p[i] = 0; /* 8-byte stores: no SSE in ring 0 */
    pool_live_add(tag, 1);
    return p;
}

void kmem_page_free(struct kmem_account *a, void *page, enum mica_obj_tag tag)
{
    pool_page_give(page);
    pool_live_add(tag, -1);
    kmem_uncharge(a, 1);
}

uint64_t kmem_pt_alloc(struct kmem_account *a)
{
    void *p = kmem_page_alloc(a, MICA_TAG_PAGE_TABLE);
    return p ? virt_to_phys_direct(p) : 0;
}

/* A fresh slab page of a for tag, charged, on a's list; NULL if no room. */
static struct slab *slab_new(struct kmem_account *a, enum mica_obj_tag tag)
{
    if (!kmem_charge(a, 1))
        return NULL;
    struct slab *s = pool_page_take();
    ASSERT(s != NULL);
    *s = (struct slab){.acct = a, .fresh = SLAB_HEAD, .tag = (uint16_t)tag};
    slab_link(s, tag);
    return s;
}

void *kmem_obj_alloc(struct kmem_account *a, enum mica_obj_tag tag)
{
    size_t size = pool_obj_size(tag);
    ASSERT(size != 0);
    struct slab *s = a->slabs[tag] ? a->slabs[tag] : slab_new(a, tag);
    if (s == NULL)
        return NULL;
    uint64_t *o;
    if (s->free != NULL) {
        o = (uint64_t *)s->free;
        s->free = s->free->next;
    } else {
        o = (uint64_t *)((char *)s + s->fresh);
        s->fresh = (uint16_t)(s->fresh + size);
    }
    s->inuse++;
    if (s->free == NULL && s->fresh + size > PAGE_SIZE)
        slab_unlink(s, tag); /* full: off the list until an object is freed */
    for (size_t i = 0; i < size / 8; i++)
        o[i] = 0;
    pool_live_add(tag, 1);
    return o;
}

void kmem_obj_free(void *obj, enum mica_obj_tag tag)
{
    struct kmem_account *a;
    if (slab_release(obj, tag, &a))
        kmem_uncharge(a, 1);
}

bool kmem_account_open(struct kmem_account *child, struct kmem_account *parent, uint64_t limit, void *record,
                       enum mica_obj_tag record_tag, const char *name, uint32_t id)
{
    if (limit == UINT64_MAX)
        limit = kmem_room(parent);
    if (!kmem_charge(parent, limit))
        return false;
    parent->given += limit;
    /* child lies in a zeroed record: only the fields that are not zero. */
    child->limit = limit;
    child->parent = parent;
    child->record = record;
    child->record_tag = record_tag;
    child->name = name;
    child->id = id;
    list_push_back(&accounts, &child->link);
    return true;
}

int kmem_account_resize(struct kmem_account *child, uint64_t limit)
{
    struct kmem_account *p = child->parent;
    if (limit < child->used)
        return MICA_EBUSY;
    if (limit > child->limit) {
        if (!kmem_charge(p, limit - child->limit))
            return MICA_ENOMEM;
        p->given += limit - child->limit;
    } else {
        uncharge_up(p, child->limit - limit, child->limit - limit);
    }
    child->limit = limit;
    return MICA_OK;
}

void kmem_account_close(struct kmem_account *a)
{
    if (a->dead)
        return;
    a->dead = 1;
    uint64_t spare = a->limit - a->used;
    a->limit = a->used;
    uncharge_up(a->parent, spare, spare);
}

void kmem_account_drop_record(struct kmem_account *a)
{
    ASSERT(a->dead);
    if (a->used != 0) {
        a->orphan = 1; /* uncharge_up frees it when the last charge goes */
        return;
    }
    list_remove(&a->link);
    kmem_obj_free(a->record, a->record_tag);
}

void kmem_account_cancel(struct kmem_account *a)
{
    ASSERT(a->used == 0);
    list_remove(&a->link);
    uncharge_up(a->parent, a->limit, a->limit);
    a->limit = 0;
}

void kmem_print_accounts(void)
{
    kprintf("         kernel memory (pages): used / limit, of which given to children\n");
    list_for_each(pos, &accounts)
    {
        const struct kmem_account *a = list_entry(pos, struct kmem_account, link);
        kprintf("         %-4u %-16s %6llu / %-6llu given %llu%s\n", a->id, a->name,
                (unsigned long long)a->used, (unsigned long long)a->limit, (unsigned long long)a->given,
                a->dead ? " (task ended)" : "");
    }
}
