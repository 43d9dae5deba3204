/* User address spaces (arch/x86_64/space.c): creation with the shared
 * kernel half, user mappings with rights that only shrink, each recorded in
 * the mapping database with the mapping it was derived from (so taking one
 * back takes back what was made from it: docs/pager.md), the first frame of
 * a thread, and checked access to user memory. */
#ifndef MICA_SPACE_H
#define MICA_SPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct task;
struct thread;
struct trap_frame;

/* Sign-extend va to canonical form for the active paging mode. */
uint64_t va_canonical(uint64_t va);

/* First address above the user half (0x800000000000, or 2^56 with LA57). */
extern uint64_t user_top;

/* Set up the mapping database (once, after the pool, before any task). */
void space_init(void);

/* A new top-level table for t with the kernel half copied in; 0 or -1. */
int arch_space_create(struct task *t);
/* t's mappings leave the mapping database, with every mapping derived
 * from them in any task; then every user-half page table of t is freed
 * (not the frames they map). */
void arch_space_destroy(struct task *t);

/* Build th's first user frame on its kernel stack; returns it. */
struct trap_frame *arch_thread_frame_init(struct thread *th, uint64_t entry, uint64_t stack, uint64_t arg0,
                                          uint64_t arg1);

/* Check that [va, va + pages * 4 KiB) is a page-aligned range of the user
 * half: 0, MICA_EINVAL (unaligned or empty), MICA_ENONCANON, MICA_EKERNEL. */
int user_range_check(uint64_t va, uint64_t pages);

/* Map the physical page pa at va in t with MICA_MAP_* rights, a root of
 * the mapping database (the kernel's own mapping): 0, MICA_EEXISTS, or
 * MICA_ENOMEM (no page-table page in the pool). */
int space_map_page(struct task *t, uint64_t va, uint64_t pa, uint32_t rights);
/* Map the physical range [pa, pa + size) at va in t with MICA_MAP_* rights,
 * with the largest pages that fit (2 MiB where va and pa allow, else
 * 4 KiB); page aligned, nothing mapped there yet; each a root.  0, or
 * MICA_ENOMEM (no page-table page in the pool; what was mapped stays). */
int space_map_frames(struct task *t, uint64_t va, uint64_t pa, uint64_t size, uint32_t rights);
/* Look up va in t: physical address and MICA_MAP_* rights of a user mapping. */
bool space_lookup(struct task *t, uint64_t va, uint64_t *pa, uint32_t *rights);
/* The mapping of page va in t for tests (SYS_DEBUG_MAPPING): physical
 * address, MICA_MAP_* rights, depth in the mapping database (0: a mapping
 * the kernel made) and page size; false when va is in no user mapping. */
bool space_mapping_info(struct task *t, uint64_t va, uint64_t *pa, uint32_t *rights, uint32_t *depth,
                        uint64_t *size);
/* The kernel's (direct-map) pointer to the byte at va in t, if va is in a
 * user mapping of t (writable too when `write`), else NULL.  The same
 * answer as space_lookup, cheaper: for the IPC buffer on every long message. */
void *space_user_ptr(struct task *t, uint64_t va, bool write);

/* Check a request to map `pages` pages of `from` at src into `to` at dst
 * with MICA_MAP_* rights (and MICA_MAP_GRANT), changing nothing: 0,
 * MICA_EINVAL (count, rights, alignment), MICA_ENONCANON, MICA_EKERNEL,
 * MICA_ENOTOWNER (a source page not mapped in `from`), MICA_EUPGRADE
 * (rights beyond the source's), MICA_EEXISTS (a destination page already
 * mapped), MICA_ENOMEM (a source at the database's depth limit). */
int space_map_check(struct task *from, struct task *to, uint64_t src, uint64_t dst, uint64_t pages,
                    uint64_t rights);
/* Check, then map (2 MiB pages where both sides allow); all or nothing:
 * on MICA_ENOMEM the pages mapped so far are removed again.  Each new
 * mapping is recorded as derived from its source (the mapping database).
 * With MICA_MAP_GRANT in rights the source mappings move instead: each
 * takes its place in the database at dst, and src is left unmapped. */
int space_map_range(struct task *from, struct task *to, uint64_t src, uint64_t dst, uint64_t pages,
                    uint64_t rights);
/* Unmap [dst, dst + pages * 4 KiB) of t and every mapping derived from
 * those, in every task (with MICA_UNMAP_DERIVED in flags: only what was
 * derived, t's own stay), splitting 2 MiB pages that are only partly
 * inside; *removed counts the mappings removed.  0, the range errors of
 * user_range_check, MICA_EINVAL (unknown flags, or over 65536 pages) or
 * MICA_ENOMEM (no page for a split; nothing changed). */
int space_unmap_range(struct task *t, uint64_t dst, uint64_t pages, uint64_t flags, uint64_t *removed);

/* Lower the rights of every page of [dst, dst + pages * 4 KiB) in t to
 * `rights` (a subset of each page's current rights), and of every mapping
 * derived from those to at most `rights`, splitting 2 MiB pages
 * the range covers in part: 0, the range errors of user_range_check,
 * MICA_EINVAL (a page not mapped, or bad rights), MICA_EUPGRADE, or
 * MICA_ENOMEM (no page for a split); nothing changed on an error. */
int space_protect_range(struct task *t, uint64_t dst, uint64_t pages, uint64_t rights);

/* Copy between kernel and the current task's user memory; MICA_EFAULT if
 * any byte is not mapped user memory (writable, for copy_to_user), and
 * then not one byte was copied. */
int copy_from_user(void *dst, uint64_t src, size_t len);
/* 0 when every byte of [u, u + len) is mapped user memory of the current
 * task (writable too when `write`), else MICA_EFAULT: for calls that must
 * check a whole range before they act on its first part. */
int user_bytes_check(uint64_t u, size_t len, int write);
int copy_to_user(uint64_t dst, const void *src, size_t len);

#endif
