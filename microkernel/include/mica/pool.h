/* The kernel object pool: a fixed region of physical memory carved out of
 * the free set at boot (before anyone else can own it), from which every
 * kernel object comes — threads, tasks, endpoints, notifications, handle
 * tables, kernel stacks, the page tables of user spaces.  Each allocation
 * carries a tag; live counts per tag are kept and can be printed
 * (SYS_DEBUG_COUNTS).  Exhaustion returns NULL, which system calls turn into
 * MICA_ENOMEM: the pool never panics. */
#ifndef MICA_POOL_H
#define MICA_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "mica/abi.h"

/* Take the pool's pages from the boot free set (bytes, a multiple of 4 KiB). */
int pool_init(uint64_t bytes);

/* One zeroed 4 KiB page (direct-map address), or NULL. */
void *pool_page_alloc(enum mica_obj_tag tag);
void pool_page_free(void *page, enum mica_obj_tag tag);

/* A zeroed page-table page by physical address, or 0 (a pt_alloc_fn). */
uint64_t pool_pt_alloc(void);

/* A zeroed small object of the tag's fixed size (<= 2 KiB), or NULL. */
void *pool_obj_alloc(enum mica_obj_tag tag);
void pool_obj_free(void *obj, enum mica_obj_tag tag);

/* Register the object size of a tag (once, at boot). */
void pool_set_obj_size(enum mica_obj_tag tag, size_t size);

/* Live objects per tag and page totals. */
void pool_counts(struct mica_obj_counts *out);
/* Print the counts on the log. */
void pool_print_counts(void);

/* Physical range of the pool (reserved: never mapped to user space). */
void pool_range(uint64_t *base, uint64_t *end);

#endif
