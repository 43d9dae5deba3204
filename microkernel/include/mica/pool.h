/* The kernel object pool: a fixed region of physical memory carved out of
 * the free set at boot (before anyone else can own it), from which every
 * kernel object comes — threads, tasks, endpoints, notifications, handle
 * tables, kernel stacks, the page tables of user spaces.  This layer hands
 * out raw pages and keeps the counts; everything above it allocates through
 * mica/kmem.h, which charges each page to a kernel-memory account, so the
 * pool itself can never run dry under a charge that fitted (docs/kernel.md).
 * Live counts per tag are kept and can be printed (SYS_DEBUG_COUNTS). */
#ifndef MICA_POOL_H
#define MICA_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "mica/abi.h"

/* Take the pool's pages from the boot free set (bytes, a multiple of 4 KiB). */
int pool_init(uint64_t bytes);

/* One free page (direct-map address, contents undefined), or NULL.  Only
 * the kmem layer calls these, after it charged the page to an account. */
void *pool_page_take(void);
void pool_page_give(void *page);

/* Count one more (delta 1) or one less (-1) live object of tag. */
void pool_live_add(enum mica_obj_tag tag, int delta);

/* Register the object size of a tag (once, at boot), and read it. */
void pool_set_obj_size(enum mica_obj_tag tag, size_t size);
size_t pool_obj_size(enum mica_obj_tag tag);

/* Live objects per tag and page totals. */
void pool_counts(struct mica_obj_counts *out);
/* Print the counts (and every account's use) on the log. */
void pool_print_counts(void);
/* Pages not handed out. */
uint64_t pool_pages_free(void);

/* Physical range of the pool (reserved: never mapped to user space). */
void pool_range(uint64_t *base, uint64_t *end);

#endif
