/* The pager's IPC protocol (servers/pager), and libipc's client calls.
 *
 * Requests are calls on the pager endpoint; the handle's badge names the
 * client (init mints one per task it starts).  Every reply has label
 * PAGER_REPLY, mr[0] = status (MICA_OK or MICA_E*), mr[1..3] = results.
 * Page faults arrive from the kernel with label MICA_LABEL_FAULT (abi.h). */
#ifndef MICA_PAGER_H
#define MICA_PAGER_H

#include <mica/ipc.h>
#include <mica/layout.h>

enum pager_label {
    PAGER_REPLY = 0,
    PAGER_VM_ALLOC = 1, /* mr0 size in bytes -> mr1 address of a zero-fill-on-demand region */
    PAGER_VM_FREE = 2,  /* mr0 address, mr1 size: the whole region at that address */
    PAGER_VM_SHARE = 3, /* mr0 address (a region of the caller), mr1 client id -> mr1 address there */
    PAGER_STATS = 4, /* -> mr1 free frames, mr2 frames holding the pager's tables, mr3 frames of the caller */
    /* From init (badge PAGER_BADGE_INIT) only: */
    PAGER_ADD_MEMORY = 16, /* mr0 address in the pager (granted by init), mr1 bytes; handle: its own task */
    PAGER_ADD_CLIENT = 17, /* handle 0: the client's task (MAP); mr0 quota in pages, mr1 PAGER_CLIENT_* -> mr1
                              id, mr2 badge */
    PAGER_REMOVE_CLIENT = 18,  /* mr0 id: give back every frame of the client */
    PAGER_EVERY_FRAME = 19,    /* take every free frame, check it is zero, pattern, check and free it -> mr1
                                  frames, mr2 pattern errors, mr3 frames not zero when taken */
    PAGER_VM_ALLOC_FOR = 20,   /* mr0 client id, mr1 bytes -> mr1 address of a region in that client */
    PAGER_START_CLEANER = 32,  /* mr0 the pager's handle to its own task (CONTROL): start the thread that
                                  clears frames ahead of faults */
    PAGER_SCRIBBLE_FRESH = 33, /* test: pattern the next mr0 never-used frames -> mr1 bound of the frames
                                  handed out before them */
    PAGER_COLD_FAULTS = 34,    /* bench: mr0 != 0: faults take never-used frames and clear them */
};

/* PAGER_ADD_CLIENT flags: the client's pages may be made executable (init's,
 * for loading programs): they are mapped writable with the right to grant
 * execution, never writable and executable at once. */
#define PAGER_CLIENT_EXEC 0x1ull

/* Init's own handle carries this badge; a client's badge is 0x100 + id. */
#define PAGER_BADGE_INIT 0x1ull
#define PAGER_BADGE_CLIENT(id) (0x100ull + (id))

/* Where regions are placed (PAGER_VM_BASE, PAGER_VM_SLICE): mica/layout.h. */

/* Client calls: status as the return value, results through pointers. */
int mica_vm_alloc(mica_handle_t pager, uint64_t size, uint64_t *addr);
int mica_vm_free(mica_handle_t pager, uint64_t addr, uint64_t size);
int mica_vm_share(mica_handle_t pager, uint64_t addr, uint64_t client, uint64_t *addr_there);
int mica_vm_stats(mica_handle_t pager, uint64_t *free_frames, uint64_t *table_frames, uint64_t *mine);

/* Any request: label, mr0 = a0, mr1 = a1; the call's status or the pager's
 * (mr0), and on MICA_OK mr1..mr3 into r1..r3 (each may be NULL).  Init's
 * admin calls (PAGER_ADD_MEMORY, PAGER_REMOVE_CLIENT, PAGER_VM_ALLOC_FOR,
 * PAGER_EVERY_FRAME) go through it on its PAGER_BADGE_INIT handle. */
int mica_pager_call(mica_handle_t pager, uint16_t label, uint64_t a0, uint64_t a1, uint64_t *r1, uint64_t *r2,
                    uint64_t *r3);
/* PAGER_ADD_CLIENT on init's admin handle: task (passed with MICA_R_MAP)
 * becomes a client with a quota in pages and PAGER_CLIENT_* flags; its id
 * and badge come back. */
int mica_pager_add_client(mica_handle_t admin, mica_handle_t task, uint64_t quota_pages, uint64_t flags,
                          uint64_t *id, uint64_t *badge);

#endif
