/* Mica's system-call ABI: the one definition shared by the kernel and
 * libipc.  Every number a user program and the kernel must agree on lives
 * here; docs/abi.md documents each call.
 *
 * Registers.  `syscall` with the call number in RAX; arguments in RDI, RSI,
 * RDX, R10, R8, R9 and, for IPC, R12 (timeout).  The status comes back in
 * RAX (0 or a negative MICA_E*), results in RDI, RSI, RDX, R10, R8, R9.
 * RCX and R11 are clobbered (the SYSCALL instruction uses them); RDI, RSI,
 * RDX, R10, R8 and R9 may be changed by any call (result registers or not);
 * every other register is preserved.  The info word of a message is always
 * in RSI and its registers in RDX, R10, R8, R9, also for SYS_REPLY; the
 * timeout of every call that has one is in R12.  A failed call changes
 * nothing. */
#ifndef MICA_ABI_H
#define MICA_ABI_H

#include <stdint.h>

#include "mica/layout.h"

/* ---- system call numbers ------------------------------------------------ */
enum mica_syscall {
    SYS_NULL = 0,                 /* () -> 0: the cheapest round trip into the kernel */
    SYS_DEBUG_WRITE = 1,          /* (ptr, len) */
    SYS_SEND = 2,                 /* (ep, info, mr0..mr3, timeout) */
    SYS_RECV = 3,                 /* (ep, timeout) -> badge, info, mr0..mr3 */
    SYS_CALL = 4,                 /* (ep, info, mr0..mr3, timeout) -> badge, info, mr0..mr3 */
    SYS_REPLY = 5,                /* (info, mr0..mr3) */
    SYS_REPLY_RECV = 6,           /* (ep, info, mr0..mr3, timeout) -> badge, info, mr0..mr3 */
    SYS_NOTIFY_SIGNAL = 7,        /* (ntf, bits) */
    SYS_NOTIFY_WAIT = 8,          /* (ntf, timeout) -> bits in RDI */
    SYS_YIELD = 9,                /* () */
    SYS_SLEEP = 10,               /* (microseconds) */
    SYS_ENDPOINT_CREATE = 11,     /* () -> handle in RDI */
    SYS_NOTIFICATION_CREATE = 12, /* () -> handle in RDI */
    SYS_HANDLE_CLOSE = 13,        /* (handle) */
    SYS_HANDLE_MINT = 14,         /* (handle, rights, badge) -> new handle in RDI */
    SYS_HANDLE_INFO = 15,         /* (handle) -> type in RDI, rights in RSI, badge in RDX */
    SYS_TASK_CREATE = 16,         /* (kmem pages, 0: MICA_KMEM_DEFAULT) -> task handle in RDI */
    SYS_TASK_KILL = 17,           /* (task) */
    SYS_TASK_GIVE = 18,           /* (task, handle, rights, badge) -> handle number in the task, in RDI */
    SYS_THREAD_CREATE = 19,       /* (task, entry, stack, arg, priority, ipc_buffer) -> thread handle in RDI;
                                   * the thread starts with RSP = stack, RDI = 0, RSI = arg */
    SYS_THREAD_EXIT = 20,         /* (code): does not return */
    SYS_MAP = 21,                 /* (task, src, dst, pages, rights) */
    SYS_UNMAP = 22,               /* (task, dst, pages) */
    SYS_DEBUG_COUNTS = 23,        /* (ptr to struct mica_obj_counts) */
    SYS_FASTPATH_SET = 24,        /* (on): switch the IPC fastpath (tests); first task only */
    SYS_THREAD_SET_PRIORITY = 25, /* (thread, priority) */
    SYS_TIME = 26,                /* () -> microseconds since boot in RDI */
    SYS_THREAD_ABORT = 27,   /* (thread): end its IPC wait, notification wait or sleep with MICA_EABORTED */
    SYS_DEBUG_SHUTDOWN = 28, /* (failed): first task only: end the run (the emulator under test=) */
    SYS_TASK_SET_PAGER =
        29, /* (task, endpoint or 0): where the task's page faults go, with that handle's badge */
    SYS_TASK_STATUS = 30, /* (task) -> state, vector, address, rip, error in RDI RSI RDX R10 R8 */
    SYS_TASK_WATCH = 31,  /* (task, notification, bits): signal bits when the task ends */
    SYS_PROTECT = 32,     /* (task, dst, pages, rights): lower the rights of mapped pages */
    SYS_KMEM_SET = 33,    /* (task, pages): a child's kernel-memory limit -> used, limit, given */
    SYS_KMEM_INFO = 34,   /* (task or 0 for the caller) -> used, limit, given in RDI RSI RDX */
    SYS_COUNT
};

/* ---- status codes -------------------------------------------------------- */
#define MICA_OK 0
#define MICA_ENOSYS (-1)     /* no such system call */
#define MICA_EINVAL (-2)     /* an argument is out of range */
#define MICA_EBADH (-3)      /* the handle does not exist */
#define MICA_ETYPE (-4)      /* the handle names an object of another type */
#define MICA_ERIGHTS (-5)    /* the handle lacks a right the call needs */
#define MICA_EFAULT (-6)     /* a user address is not mapped, not user, or not canonical */
#define MICA_ENOMEM (-7)     /* the kernel-memory quota the allocation is charged to is spent */
#define MICA_ENOHANDLES (-8) /* the task's handle table is full */
#define MICA_ETIMEOUT (-9)   /* the timeout expired (poll: no partner was ready) */
#define MICA_EDEAD (-10)     /* the partner died, or the object was destroyed, while we waited */
#define MICA_EABORTED (-11)  /* the wait was ended by SYS_THREAD_ABORT */
#define MICA_ETOOLONG (-12)  /* message longer than MICA_MSG_MAX_WORDS, or too many handles */
#define MICA_ENOREPLY (-13)  /* reply with no caller waiting */
#define MICA_EKERNEL (-14)   /* address in the kernel half */
#define MICA_ENONCANON (-15) /* non-canonical address */
#define MICA_ENOTOWNER (-16) /* the source page is not mapped in the caller */
#define MICA_EUPGRADE (-17)  /* rights asked exceed the rights held */
#define MICA_EEXISTS (-18)   /* a mapping is already there */
#define MICA_EBUSY (-19)     /* the object is in use in a way the call forbids (a limit below the use) */

#define MICA_PAGE_SIZE 4096ull

/* ---- handles and rights -------------------------------------------------- */
typedef uint32_t mica_handle_t;
#define MICA_HANDLE_NONE 0u

enum mica_obj_type {
    MICA_OBJ_NONE = 0,
    MICA_OBJ_ENDPOINT = 1,
    MICA_OBJ_NOTIFICATION = 2,
    MICA_OBJ_TASK = 3,
    MICA_OBJ_THREAD = 4,
};

#define MICA_R_SEND 0x01u     /* endpoint: send, call */
#define MICA_R_RECV 0x02u     /* endpoint: receive */
#define MICA_R_SIGNAL 0x04u   /* notification: signal */
#define MICA_R_WAIT 0x08u     /* notification: wait */
#define MICA_R_CONTROL 0x10u  /* task/thread: create threads, kill, set priority */
#define MICA_R_MAP 0x20u      /* task: map and unmap pages in it; give handles to it */
#define MICA_R_TRANSFER 0x40u /* the handle may be minted or passed on in a message */
#define MICA_R_ALL 0x7fu

/* Rights of a page mapping (SYS_MAP); they can only shrink along a map. */
#define MICA_MAP_READ 0x1u
#define MICA_MAP_WRITE 0x2u
#define MICA_MAP_EXEC 0x4u

/* ---- messages ------------------------------------------------------------ */
/* The info word (RSI) of every IPC:
 *   bits  0..15  label, the sender's to choose (the kernel never looks at it)
 *   bits 16..23  words of long message in the IPC buffer (0..MICA_MSG_MAX_WORDS)
 *   bits 24..26  handles passed, listed in the IPC buffer (0..MICA_MSG_MAX_HANDLES)
 *   bits 27..63  ignored (delivered as sent) */
#define MICA_MSG_REGS 4       /* short message words: RDX, R10, R8, R9 */
#define MICA_MSG_MAX_WORDS 64 /* long message, copied from buffer to buffer */
#define MICA_MSG_MAX_HANDLES 4

#define MICA_INFO(label, words, handles)                                                                     \
    ((uint64_t)(label) | ((uint64_t)(words) << 16) | ((uint64_t)(handles) << 24))
#define MICA_INFO_LABEL(info) ((uint32_t)((info)&0xffffu))
#define MICA_INFO_WORDS(info) ((uint32_t)(((info) >> 16) & 0xffu))
#define MICA_INFO_HANDLES(info) ((uint32_t)(((info) >> 24) & 0x7u))

/* Timeouts (R12), in microseconds, with two special values. */
#define MICA_TIMEOUT_POLL 0ull
#define MICA_TIMEOUT_INFINITE UINT64_MAX

/* Each thread may register one page as its IPC buffer (SYS_THREAD_CREATE's
 * last argument).  Long messages go from the sender's buffer to the
 * receiver's; passed handles are named in send_handles[] (with the rights
 * to give in send_rights[]) and arrive, renumbered, in recv_handles[]. */
struct mica_ipc_buffer {
    uint64_t words[MICA_MSG_MAX_WORDS];
    uint32_t send_handles[MICA_MSG_MAX_HANDLES];
    uint32_t send_rights[MICA_MSG_MAX_HANDLES];
    uint32_t recv_handles[MICA_MSG_MAX_HANDLES];
    uint32_t reserved[4];
};
_Static_assert(sizeof(struct mica_ipc_buffer) <= 4096, "the IPC buffer fits one page");

/* ---- page faults (docs/pager.md) ----------------------------------------- */
/* A fault arrives at the pager as a call with this label and
 *   mr0 = fault address, mr1 = MICA_FAULT_* access bits, mr2 = RIP,
 *   mr3 = the faulting thread's id; the badge is the pager handle's. */
#define MICA_LABEL_FAULT 0xfff0u
/* The pager answers with one of these labels:
 *   MAP:  mr0 = source address in the pager, mr1 = destination page in the
 *         faulting task, mr2 = pages, mr3 = MICA_MAP_* rights; the kernel
 *         checks it like SYS_MAP, installs it and resumes the thread;
 *   KILL: the fault cannot be served: the task is stopped. */
#define MICA_FAULT_MAP 0xfff1u
#define MICA_FAULT_KILL 0xfff2u
#define MICA_FAULT_READ 0x1u
#define MICA_FAULT_WRITE 0x2u
#define MICA_FAULT_EXEC 0x4u
#define MICA_FAULT_PRESENT 0x8u /* the page was mapped: a rights violation */

/* SYS_TASK_STATUS states. */
enum mica_task_state {
    MICA_TASK_ALIVE = 0,
    MICA_TASK_KILLED = 1,
    MICA_TASK_FAULTED = 2,
    MICA_TASK_EXITED = 3
};

/* ---- kernel memory (docs/kernel.md) ---------------------------------------- */
/* Every page the kernel takes for a task (its records, tables, stacks,
 * objects) is charged to a quota in pages, carved out of its creator's. */
#define MICA_KMEM_DEFAULT 64u /* SYS_TASK_CREATE with 0: 256 KiB */
#define MICA_KMEM_TASK_MIN 2u /* a task's own handle table and top-level page table */

/* ---- priorities ---------------------------------------------------------- */
#define MICA_PRIO_MIN 0
#define MICA_PRIO_MAX 63
#define MICA_PRIO_DEFAULT 32

/* ---- debug: kernel object counts (SYS_DEBUG_COUNTS) ---------------------- */
enum mica_obj_tag {
    MICA_TAG_TASK,
    MICA_TAG_THREAD,
    MICA_TAG_ENDPOINT,
    MICA_TAG_NOTIFICATION,
    MICA_TAG_HANDLE_TABLE,
    MICA_TAG_PAGE_TABLE,
    MICA_TAG_KSTACK,
    MICA_TAG_FPU_STATE,
    MICA_TAG_COUNT
};
struct mica_obj_counts {
    uint64_t live[MICA_TAG_COUNT];
    uint64_t pool_pages_total, pool_pages_free;
    uint64_t fastpath_calls, fastpath_reply_recvs; /* IPCs the fastpath completed */
    uint64_t kmem_used, kmem_limit;                /* the calling task's kernel memory, in pages */
};

/* ---- the first task ------------------------------------------------------ */
/* Its boot information is at MICA_BOOTINFO_ADDR (mica/layout.h: the user
 * half's map, with MICA_IPCBUF_ADDR and the stacks). */
#define MICA_BOOTINFO_MAGIC 0x4d49434142495446ull /* "MICABITF" */
#define MICA_BOOTINFO_MAX_MODULES 32
#define MICA_BOOTINFO_MAX_RANGES 64

struct mica_bootinfo_module {
    uint64_t phys; /* where GRUB put it (informational) */
    uint64_t size;
    uint64_t vaddr; /* where it is mapped read-only in init's space, 0 if not */
    char cmdline[104];
};

struct mica_bootinfo {
    uint64_t magic;
    uint32_t version;
    uint32_t paging_levels;    /* 4 or 5 */
    uint64_t user_top;         /* first address above the user half */
    uint64_t ipc_buffer;       /* init's first thread's IPC buffer page */
    uint64_t stack_top;        /* top of init's first stack */
    uint64_t kernel_entry_tsc; /* the time stamp counter when kmain began */
    /* Handles init starts with. */
    mica_handle_t self_task; /* init's own task, all rights */
    mica_handle_t self_thread;
    mica_handle_t reserved_handles[2];
    /* Free physical memory, all mapped read-write into init at mem_window
     * + (phys - the first range's base); see docs/abi.md. */
    uint64_t mem_window;
    uint64_t nranges;
    struct {
        uint64_t phys, size, vaddr;
    } ranges[MICA_BOOTINFO_MAX_RANGES];
    uint64_t nmodules;
    struct mica_bootinfo_module modules[MICA_BOOTINFO_MAX_MODULES];
    char cmdline[256];
};
_Static_assert(sizeof(struct mica_bootinfo) <= 4 * 4096, "boot information fits four pages");

#endif
