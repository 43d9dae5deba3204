/* Kernel-memory accounts: every pool page the kernel takes on a task's
 * behalf is charged to an account, and every account's limit is carved out
 * of its parent's, so the limits form a tree whose root (kmem_kernel) is
 * the pool itself.  A charge that fits its account's limit therefore always
 * finds a free pool page: one task spending its quota cannot make another
 * task's allocation fail.  docs/kernel.md ("Kernel memory") gives the model
 * and why it was chosen.
 *
 * Granularity is the pool page: a page table, handle table or kernel stack
 * is one page; small objects (tasks, threads, endpoints, notifications, FPU
 * areas, ...) come from slab pages that belong to one account, and a slab
 * page is charged while it holds any object and given back to the pool
 * when its last object goes.
 *
 * Who owns what (one CPU, interrupts off in the kernel: no locks):
 *   - a task's own account lives in its record (struct task.kmem);
 *   - the task record itself is charged to its creator's account;
 *   - threads, kernel stacks and FPU areas to the task they run in;
 *   - endpoints and notifications to the task that created them;
 *   - handle tables and page tables to the task whose they are.
 * An account outlives its task while anything charged to it lives on
 * (an endpoint another task still holds, a thread record named by a
 * handle): its limit then follows its use down, and the record is freed
 * when the use reaches zero. */
#ifndef MICA_KMEM_H
#define MICA_KMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "base/list.h"
#include "mica/abi.h"

struct slab;

struct kmem_account {
    uint64_t limit;                     /* pages it may hold, the limits it gave away included */
    uint64_t used;                      /* pages it holds: its own, plus its children's limits */
    uint64_t given;                     /* the part of `used` that is children's limits */
    struct kmem_account *parent;        /* whose limit this one was carved from (NULL: the root) */
    struct slab *slabs[MICA_TAG_COUNT]; /* its slab pages with a free object, per tag (NULL: none) */
    struct list link;                   /* on the list of all accounts (reports) */
    void *record;                       /* the object it is part of (a task), freed when a dead */
    enum mica_obj_tag record_tag;       /* account empties, with this tag */
    const char *name;                   /* for reports */
    uint32_t id;
    uint8_t dead;   /* its task ended: the limit follows the use down */
    uint8_t orphan; /* nothing names the record any more: free it at use 0 */
};

/* The root: the whole pool, less what the kernel took before the first task. */
extern struct kmem_account kmem_kernel;

/* Make the root the whole pool (pool_init, once). */
void kmem_init(uint64_t pool_pages);

/* ---- charging (O(1); never called on the IPC fastpath) -------------------- */

/* Charge `pages` to a: false (nothing changed) when they do not fit its limit. */
bool kmem_charge(struct kmem_account *a, uint64_t pages);
/* Give back `pages` charged to a (a dead account passes them up the tree). */
void kmem_uncharge(struct kmem_account *a, uint64_t pages);
/* Pages a may still charge. */
uint64_t kmem_room(const struct kmem_account *a);

/* ---- charged allocation: the only way to take pool memory after boot ------ */

/* A zeroed page charged to a, or NULL (a's limit reached). */
void *kmem_page_alloc(struct kmem_account *a, enum mica_obj_tag tag);
/* Free a page kmem_page_alloc charged to a. */
void kmem_page_free(struct kmem_account *a, void *page, enum mica_obj_tag tag);
/* A zeroed page-table page charged to a, by physical address, or 0. */
uint64_t kmem_pt_alloc(struct kmem_account *a);
/* A zeroed small object of the tag's size from a slab page of a, or NULL.
 * Use this for any new kind of kernel object (e.g. mapping-database nodes:
 * register the size with pool_set_obj_size once, at boot). */
void *kmem_obj_alloc(struct kmem_account *a, enum mica_obj_tag tag);
/* Free an object of kmem_obj_alloc; the account is found from its slab page. */
void kmem_obj_free(void *obj, enum mica_obj_tag tag);

/* ---- the tree ---------------------------------------------------------------- */

/* Make child an account with `limit` pages carved out of parent (UINT64_MAX:
 * all that parent has left); false when parent has not that much room. */
bool kmem_account_open(struct kmem_account *child, struct kmem_account *parent, uint64_t limit, void *record,
                       enum mica_obj_tag record_tag, const char *name, uint32_t id);
/* Set child's limit to `limit`, moving the difference from or to its
 * parent: MICA_OK, MICA_EBUSY (below its use) or MICA_ENOMEM (the parent
 * has not the room). */
int kmem_account_resize(struct kmem_account *child, uint64_t limit);
/* Its task ended: give the parent back all of the limit it does not use. */
void kmem_account_close(struct kmem_account *a);
/* Nothing names a's record any more (a closed): free it now if a holds
 * nothing, else as soon as its last charge is given back. */
void kmem_account_drop_record(struct kmem_account *a);
/* Undo kmem_account_open of an account that was never charged. */
void kmem_account_cancel(struct kmem_account *a);

/* Print every account's use and limit on the log. */
void kmem_print_accounts(void);

#endif
