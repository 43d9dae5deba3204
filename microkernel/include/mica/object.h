/* Kernel objects: tasks (an address space and a handle table), threads,
 * IPC endpoints and notifications, and the handles that name them.
 *
 * Ownership and locking: there is one CPU and the kernel runs with
 * interrupts off, so no field needs a lock; "who may change it" is said per
 * field.  Objects are reference-counted by the handles that name them (and,
 * for threads, by their task); the last reference frees the object. */
#ifndef MICA_OBJECT_H
#define MICA_OBJECT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/list.h"
#include "mica/abi.h"
#include "mica/arch.h"
#include "mica/kmem.h"

struct trap_frame;
struct thread;

struct kobj {
    uint32_t type; /* enum mica_obj_type */
    uint32_t refs; /* handles naming it, plus internal references */
};

/* One slot of a task's handle table. */
struct handle {
    struct kobj *obj; /* NULL: free slot */
    uint32_t rights;  /* MICA_R_* */
    uint32_t reserved;
    uint64_t badge; /* given to receivers of messages sent through it */
    uint64_t pad;   /* 32 bytes: the fastpath indexes with a shift */
};
_Static_assert(sizeof(struct handle) == 32, "handle slots are 32 bytes");

#define HANDLES_PER_TASK 128
struct handle_table {
    struct handle slot[HANDLES_PER_TASK]; /* slot 0 is never used: MICA_HANDLE_NONE */
};

struct task {
    struct kobj hdr;
    uint64_t root;         /* physical address of the top-level table */
    struct arch_task arch; /* its MMU state (arch: CR3, PCID, ...) */
    bool dying;
    struct handle_table *handles;
    struct list threads;    /* struct thread.task_link */
    struct list stop_link;  /* on the list of tasks stopped by a fault */
    struct endpoint *pager; /* counted reference, or NULL: faults stop the task */
    uint64_t pager_badge;
    struct notification *watch; /* counted reference: signalled when the task ends */
    uint64_t watch_bits;
    uint8_t end_state; /* enum mica_task_state */
    uint8_t end_vector;
    uint64_t end_addr, end_rip, end_error;
    uint32_t id;
    char name[24];
    struct kmem_account kmem; /* what it and its threads, tables and objects may take of the pool */
};

enum thread_state {
    TS_INACTIVE,      /* created, not yet started, or stopped */
    TS_RUNNABLE,      /* on a run queue, or running */
    TS_SEND_BLOCKED,  /* queued on an endpoint with a message to deliver */
    TS_RECV_BLOCKED,  /* queued on an endpoint waiting for a message */
    TS_REPLY_BLOCKED, /* its call was received; waiting for the reply */
    TS_NOTIFY_BLOCKED,
    TS_SLEEPING,
    TS_FAULT_BLOCKED, /* its fault was received by the pager: waiting for the mapping */
    TS_DEAD,
};

struct endpoint {
    struct kobj hdr;
    uint32_t recv_handles; /* handles with MICA_R_RECV: at 0 no message can ever be received */
    struct list senders;   /* threads in TS_SEND_BLOCKED, FIFO */
    struct list receivers; /* threads in TS_RECV_BLOCKED, FIFO */
};

struct notification {
    struct kobj hdr;
    uint64_t bits;       /* pending signals */
    struct list waiters; /* threads in TS_NOTIFY_BLOCKED */
};

struct thread {
    struct kobj hdr;
    struct task *task; /* counted reference */
    struct list task_link;
    uint8_t state; /* enum thread_state */
    uint8_t prio;
    uint8_t is_call;    /* blocked sending a call (wants a reply) */
    uint8_t rr_yield;   /* go behind same-priority peers at the next exit */
    uint8_t reply_dead; /* the caller this thread owed a reply died */
    uint8_t in_fault;   /* queued at its pager with a fault message */
    uint64_t fault_addr, fault_access, fault_rip;
    uint32_t id;
    uint64_t kstack;           /* direct-map address of its kernel stack page */
    struct trap_frame *frame;  /* its saved user registers (top of kstack) */
    uint64_t ipc_buffer;       /* user address of its IPC buffer page, or 0 */
    struct list queue_link;    /* run queue, endpoint queue or notification waiters */
    struct thread *reply_to;   /* the caller this thread must reply to */
    struct thread *replier;    /* the server holding this caller's reply */
    uint64_t send_badge;       /* badge of the handle it sends through */
    uint32_t send_rights;      /* rights of that handle (for passing handles) */
    uint64_t deadline;         /* timeout, in timer ticks; 0 = none */
    struct list timer_link;    /* sorted sleep/timeout list */
    struct arch_thread arch;   /* its FPU/vector state (arch) */
    struct kmem_account *kmem; /* its task's account: its record, stack and FPU area are charged there */
};

/* Turn a handle number of `t` into its slot, or NULL if free, out of range
 * or t has no handle table any more (a dead task). */
struct handle *handle_get(struct task *t, mica_handle_t h);

/* Look up handle h: it must exist, name an object of `type`, and carry all of
 * `rights`; returns 0 and the slot, or MICA_EBADH / MICA_ETYPE / MICA_ERIGHTS. */
int handle_lookup(struct task *t, mica_handle_t h, uint32_t type, uint32_t rights, struct handle **out);

/* Put obj into the lowest free slot of t with rights and badge (taking a
 * reference, and counting a receive handle of an endpoint); returns the
 * handle number, or 0 when the table is full or gone. */
mica_handle_t handle_install(struct task *t, struct kobj *obj, uint32_t rights, uint64_t badge);

/* True when t has at least n free handle slots (false once its table is gone). */
bool handle_has_room(const struct task *t, unsigned n);

/* Empty slot h of t (nothing when h is not a handle) and drop its
 * reference; when it was the last receive handle of an endpoint that still
 * exists, the endpoint's senders fail with MICA_EDEAD. */
void handle_close(struct task *t, mica_handle_t h);

/* Take / drop a reference; the last drop destroys the object. */
void obj_ref(struct kobj *o);
void obj_unref(struct kobj *o);

/* Create objects (reference count 0: the first handle takes one). */
struct endpoint *endpoint_create(struct kmem_account *a);
struct notification *notification_create(struct kmem_account *a);
/* A task whose own account gets kmem_pages carved out of `parent` (UINT64_MAX:
 * all parent has left); its record is charged to parent.  NULL when
 * parent has not the room. */
struct task *task_create(const char *name, struct kmem_account *parent, uint64_t kmem_pages);
struct thread *thread_create(struct task *t, uint64_t entry, uint64_t stack, uint64_t arg0, uint64_t arg1,
                             unsigned prio, uint64_t ipc_buffer);

/* Destroy a task now: kill its threads, close its handles, drop its pager,
 * tell its watcher, free its space; its record lives on while handles name
 * it.  Destroying init (task 1) stops the system. */
void task_destroy(struct task *t);
/* Stop a task because of a fault nobody will serve: one log line with the
 * decoded fault, the reason recorded for SYS_TASK_STATUS; the task is
 * destroyed at the next kernel exit (destroy_stopped_tasks). */
void task_stop_for_fault(struct task *t, unsigned vector, uint64_t addr, uint64_t rip, uint64_t error,
                         const char *why);
/* Kill a thread (it may be the current one): out of every wait and queue,
 * dead, off its task's list, its task reference dropped; its kernel stack
 * is freed at the next kernel exit (reap_zombies).  The task does not end
 * with its last thread here (thread_end does that; task_destroy uses this
 * for each thread). */
void thread_kill(struct thread *th);
/* End a thread however it ends (exit, or stopped by the kernel); the last
 * thread of a live task ends the task too, with end_state (MICA_TASK_*),
 * and its watcher is told. */
void thread_end(struct thread *th, uint8_t end_state);

/* An endpoint or notification dies (the object code calls these): every
 * thread waiting on it wakes with MICA_EDEAD (a faulting one: its task
 * stops, its pager is gone). */
void ipc_endpoint_destroyed(struct endpoint *ep);
void ipc_notification_destroyed(struct notification *n);
/* The last handle that could receive from ep is gone: fail its senders. */
void ipc_endpoint_unreceivable(struct endpoint *ep);
/* thread_kill's part in IPC: th leaves its wait and its timeout; a caller
 * waiting for th's reply wakes with MICA_EDEAD (a faulting one: its task
 * stops); a server owing th a reply is told the caller died. */
void ipc_thread_dying(struct thread *th);
/* OR bits into n and wake its first waiter (from anywhere in the kernel). */
void notification_signal(struct notification *n, uint64_t bits);

/* Free the kernel stacks and FPU state of dead threads and drop their own
 * references (called when leaving the kernel, once no dead thread's stack
 * is in use); zombies_pending: there are some. */
void reap_zombies(void);
bool zombies_pending(void);
/* Destroy the tasks task_stop_for_fault stopped (before leaving the
 * kernel); tasks_stopping: there are some. */
bool tasks_stopping(void);
void destroy_stopped_tasks(void);

/* Tell the pool the size of each kind of object (before the first create). */
void object_init(void);

/* Build the first task from the first module (init_task.c); NULL when
 * there is no usable module (reported on the log); a panic when memory
 * runs out on the way. */
struct thread *init_task_create(void);

#endif
