/* The start-up record: what every server started by init gets (docs/servers.md).
 *
 * Init maps one read-only page at MICA_START_ADDR into each server it starts
 * and starts the server's first thread with RSI = MICA_START_ADDR.  libipc's
 * start-up (start.c) sees that, remembers the record (mica_start_info) and
 * calls main(NULL, record->arg).  A program started any other way (init
 * itself, a test's child task) has no record: mica_start_info() is NULL. */
#ifndef MICA_START_H
#define MICA_START_H

#include <mica/ipc.h>
#include <mica/layout.h> /* MICA_START_ADDR: where the record is mapped */

#define MICA_START_MAGIC 0x5452415453414349ull /* "ICASTART" */
#define MICA_START_VERSION 1
/* Words after `--` on the module line (each at most 63 bytes, 511 in all). */
#define MICA_START_MAX_ARGS 16
#define MICA_START_TEXT 512

struct mica_start {
    uint64_t magic;   /* MICA_START_MAGIC */
    uint32_t version; /* MICA_START_VERSION */
    uint32_t size;    /* sizeof(struct mica_start) */
    /* Handles in the server's own table (0: not given). */
    mica_handle_t self_task;        /* its task: MICA_R_CONTROL | MICA_R_MAP (threads, map within itself) */
    mica_handle_t pager;            /* MICA_R_SEND, badged as its pager client: mica_vm_* */
    mica_handle_t names;            /* MICA_R_SEND, to init's name service: mica_name_* */
    uint64_t pager_client;          /* its pager client id (what others pass to mica_vm_share) */
    uint64_t quota_pages;           /* its quota= in pages: the pager refuses more */
    uint64_t stack_base, stack_top; /* its first thread's stack (a pager region; counts against quota) */
    uint64_t ipc_buffer;            /* its first thread's IPC buffer (MICA_IPCBUF_ADDR) */
    uint64_t arg;                   /* main's second argument: arg= if given, else `names` */
    int32_t prio;                   /* its first thread's priority: the highest it may give a thread */
    uint32_t generation;            /* 1 on the first start, n + 1 after the n-th restart */
    char name[24];                  /* its module name */
    uint32_t argc;                  /* the words after `--` on its module line */
    uint32_t reserved;
    const char *argv[MICA_START_MAX_ARGS + 1]; /* argv[argc] == NULL; point into text */
    char text[MICA_START_TEXT];
};
_Static_assert(sizeof(struct mica_start) <= 4096, "the start-up record is one page");

/* This program's start-up record, or NULL when it has none. */
const struct mica_start *mica_start_info(void);

#endif
