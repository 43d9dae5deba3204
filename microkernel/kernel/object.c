/* Handles, reference counts, and the life and death of kernel objects. */
#include <stddef.h>

#include "base/str.h"
#include "mica/arch.h"
#include "mica/ipc.h"
#include "mica/kmem.h"
#include "mica/log.h"
#include "mica/object.h"
#include "mica/panic.h"
#include "mica/pool.h"
#include "mica/sched.h"
#include "mica/space.h"

static uint32_t next_task_id = 1, next_thread_id = 1;

static void task_release(struct task *t);
static void task_teardown(struct task *t);
static struct list zombies = LIST_INIT(zombies); /* dead threads whose stack may still be in use */
/* Tasks stopped by a fault, destroyed at the next kernel exit: stopping one
 * synchronously from inside IPC delivery or a thread's death would pull
 * threads and links out from under the code that is using them. */
static struct list stopping = LIST_INIT(stopping);

void object_init(void)
{
    pool_set_obj_size(MICA_TAG_TASK, sizeof(struct task));
    pool_set_obj_size(MICA_TAG_THREAD, sizeof(struct thread));
    pool_set_obj_size(MICA_TAG_ENDPOINT, sizeof(struct endpoint));
    pool_set_obj_size(MICA_TAG_NOTIFICATION, sizeof(struct notification));
}

_Static_assert(sizeof(struct handle_table) <= PAGE_SIZE, "a handle table is one pool page");

struct handle *handle_get(struct task *t, mica_handle_t h)
{
    if (h == MICA_HANDLE_NONE || h >= HANDLES_PER_TASK || t->handles == NULL)
        return NULL;
    struct handle *slot = &t->handles->slot[h];
    return slot->obj ? slot : NULL;
}

int handle_lookup(struct task *t, mica_handle_t h, uint32_t type, uint32_t rights, struct handle **out)
{
    struct handle *slot = handle_get(t, h);
    if (slot == NULL)
        return MICA_EBADH;
    if (slot->obj->type != type)
        return MICA_ETYPE;
    if ((slot->rights & rights) != rights)
        return MICA_ERIGHTS;
    *out = slot;
    return MICA_OK;
}

bool handle_has_room(const struct task *t, unsigned n)
{
    if (t->handles == NULL)
        return false;
    for (unsigned i = 1; i < HANDLES_PER_TASK && n > 0; i++)
        if (t->handles->slot[i].obj == NULL)
            n--;
    return n == 0;
}

mica_handle_t handle_install(struct task *t, struct kobj *obj, uint32_t rights, uint64_t badge)
{
    if (t->handles == NULL)
        return MICA_HANDLE_NONE;
    for (mica_handle_t i = 1; i < HANDLES_PER_TASK; i++) {
        struct handle *slot = &t->handles->slot[i];
        if (slot->obj == NULL) {
            *slot = (struct handle){.obj = obj, .rights = rights, .badge = badge};
            obj_ref(obj);
            if (obj->type == MICA_OBJ_ENDPOINT && (rights & MICA_R_RECV))
                ((struct endpoint *)obj)->recv_handles++;
            return i;
        }
    }
    return MICA_HANDLE_NONE;
}

void handle_close(struct task *t, mica_handle_t h)
{
    struct handle *slot = handle_get(t, h);
    if (slot == NULL)
        return;
    struct kobj *o = slot->obj;
    bool last_receiver = o->type == MICA_OBJ_ENDPOINT && (slot->rights & MICA_R_RECV) &&
                         --((struct endpoint *)o)->recv_handles == 0 && o->refs > 1;
    *slot = (struct handle){0};
    if (last_receiver)
        ipc_endpoint_unreceivable((struct endpoint *)o);
    obj_unref(o);
}

void obj_ref(struct kobj *o)
{
    o->refs++;
}

/* Free an object whose last reference went away. */
static void obj_destroy(struct kobj *o)
{
    switch (o->type) {
    case MICA_OBJ_ENDPOINT:
        ipc_endpoint_destroyed((struct endpoint *)o);
        kmem_obj_free(o, MICA_TAG_ENDPOINT);
        break;
    case MICA_OBJ_NOTIFICATION:
        ipc_notification_destroyed((struct notification *)o);
        kmem_obj_free(o, MICA_TAG_NOTIFICATION);
        break;
    case MICA_OBJ_TASK: {
        /* No thread is left (threads hold a reference), but a task that was
         * never killed still holds handles, a pager and a watcher. */
        struct task *t = (struct task *)o;
        if (!t->dying) {
            t->dying = true;
            t->end_state = MICA_TASK_KILLED;
            o->refs = 1; /* teardown may take and drop references to it */
            task_teardown(t);
        }
        /* Objects charged to it may live on elsewhere: then the record
         * goes when they do (its account is in it). */
        kmem_account_drop_record(&t->kmem);
        break;
    }
    case MICA_OBJ_THREAD:
        /* Handles to a thread keep only its record; it is freed once dead. */
        kmem_obj_free(o, MICA_TAG_THREAD);
        break;
    default:
        PANIC("destroying object of unknown type %u", o->type);
    }
}

void obj_unref(struct kobj *o)
{
    ASSERT(o->refs > 0);
    if (--o->refs == 0)
        obj_destroy(o);
}

struct endpoint *endpoint_create(struct kmem_account *a)
{
    struct endpoint *ep = kmem_obj_alloc(a, MICA_TAG_ENDPOINT);
    if (ep == NULL)
        return NULL;
    ep->hdr.type = MICA_OBJ_ENDPOINT;
    list_init(&ep->senders);
    list_init(&ep->receivers);
    return ep;
}

struct notification *notification_create(struct kmem_account *a)
{
    struct notification *n = kmem_obj_alloc(a, MICA_TAG_NOTIFICATION);
    if (n == NULL)
        return NULL;
    n->hdr.type = MICA_OBJ_NOTIFICATION;
    list_init(&n->waiters);
    return n;
}

struct task *task_create(const char *name, struct kmem_account *parent, uint64_t kmem_pages)
{
    struct task *t = kmem_obj_alloc(parent, MICA_TAG_TASK);
    if (t == NULL)
        return NULL;
    t->id = next_task_id; /* before the space: its PCID derives from it */
    size_t n = str_nlen(name, sizeof t->name - 1);
    for (size_t i = 0; i < n; i++)
        t->name[i] = name[i];
    if (!kmem_account_open(&t->kmem, parent, kmem_pages, t, MICA_TAG_TASK, t->name, t->id)) {
        kmem_obj_free(t, MICA_TAG_TASK);
        return NULL;
    }
    /* Its own account pays for its table and top-level page table. */
    t->handles = kmem_page_alloc(&t->kmem, MICA_TAG_HANDLE_TABLE);
    if (t->handles == NULL || arch_space_create(t) != 0) {
        if (t->handles != NULL)
            kmem_page_free(&t->kmem, t->handles, MICA_TAG_HANDLE_TABLE);
        kmem_account_cancel(&t->kmem);
        kmem_obj_free(t, MICA_TAG_TASK);
        return NULL;
    }
    next_task_id++;
    t->hdr.type = MICA_OBJ_TASK;
    list_init(&t->threads);
    list_init(&t->stop_link);
    return t;
}

struct thread *thread_create(struct task *t, uint64_t entry, uint64_t stack, uint64_t arg0, uint64_t arg1,
                             unsigned prio, uint64_t ipc_buffer)
{
    struct thread *th = kmem_obj_alloc(&t->kmem, MICA_TAG_THREAD);
    if (th == NULL)
        return NULL;
    th->kmem = &t->kmem; /* the task's account pays for all of the thread */
    void *kstack = kmem_page_alloc(th->kmem, MICA_TAG_KSTACK);
    if (kstack == NULL) {
        kmem_obj_free(th, MICA_TAG_THREAD);
        return NULL;
    }
    if (!arch_fpu_thread_init(th)) {
        kmem_page_free(th->kmem, kstack, MICA_TAG_KSTACK);
        kmem_obj_free(th, MICA_TAG_THREAD);
        return NULL;
    }
    th->hdr.type = MICA_OBJ_THREAD;
    th->hdr.refs = 1; /* the thread's own reference, dropped when it dies */
    th->id = next_thread_id++;
    th->task = t;
    obj_ref(&t->hdr);
    th->kstack = (uint64_t)kstack;
    th->prio = (uint8_t)prio;
    th->ipc_buffer = ipc_buffer;
    list_init(&th->queue_link);
    list_init(&th->timer_link);
    list_push_back(&t->threads, &th->task_link);
    th->frame = arch_thread_frame_init(th, entry, stack, arg0, arg1);
    sched_wake(th);
    return th;
}

void reap_zombies(void)
{
    list_for_each_safe(pos, tmp, &zombies)
    {
        struct thread *z = list_entry(pos, struct thread, queue_link);
        list_remove(&z->queue_link);
        kmem_page_free(z->kmem, (void *)z->kstack, MICA_TAG_KSTACK);
        arch_fpu_thread_free(z);
        obj_unref(&z->hdr);
    }
}

void thread_kill(struct thread *th)
{
    if (th->state == TS_DEAD)
        return;
    ipc_thread_dying(th);
    sched_dequeue(th);
    arch_fpu_thread_dying(th);
    th->state = TS_DEAD;
    list_remove(&th->task_link);
    struct task *t = th->task;
    th->task = NULL;
    /* Its stack may be the one we are running on: the scheduler frees it
     * when it leaves the kernel (reap_zombies). */
    list_push_back(&zombies, &th->queue_link);
    obj_unref(&t->hdr);
}

void thread_end(struct thread *th, uint8_t end_state)
{
    struct task *t = th->task;
    if (t == NULL)
        return;
    obj_ref(&t->hdr); /* the thread's own reference goes with it */
    thread_kill(th);
    if (list_empty(&t->threads) && !t->dying) {
        t->end_state = end_state;
        task_destroy(t);
    }
    obj_unref(&t->hdr);
}

bool zombies_pending(void)
{
    return !list_empty(&zombies);
}

/* Free what a task holds apart from its record: its address space and its
 * handle table; what it does not use of its quota goes back to its
 * creator's account.  Idempotent. */
static void task_release(struct task *t)
{
    if (t->handles == NULL)
        return;
    arch_space_destroy(t);
    kmem_page_free(&t->kmem, t->handles, MICA_TAG_HANDLE_TABLE);
    t->handles = NULL;
    kmem_account_close(&t->kmem);
}

void task_stop_for_fault(struct task *t, unsigned vector, uint64_t addr, uint64_t rip, uint64_t error,
                         const char *why)
{
    if (t->dying)
        return;
    t->end_state = MICA_TASK_FAULTED;
    t->end_vector = (uint8_t)vector;
    t->end_addr = addr;
    t->end_rip = rip;
    t->end_error = error;
    LOG_FAIL("task %u \"%s\": %s at 0x%llx, rip 0x%llx (%s); task stopped", t->id, t->name, trap_name(vector),
             (unsigned long long)addr, (unsigned long long)rip, why);
    if (!list_linked(&t->stop_link)) {
        obj_ref(&t->hdr);
        list_push_back(&stopping, &t->stop_link);
    }
}

bool tasks_stopping(void)
{
    return !list_empty(&stopping);
}

void destroy_stopped_tasks(void)
{
    while (!list_empty(&stopping)) {
        struct task *t = list_entry(list_first(&stopping), struct task, stop_link);
        list_remove(&t->stop_link);
        task_destroy(t);
        obj_unref(&t->hdr);
    }
}

void task_destroy(struct task *t)
{
    if (t->dying)
        return;
    if (t->end_state == MICA_TASK_ALIVE)
        t->end_state = MICA_TASK_KILLED;
    if (t->id == 1) {
        /* init holds the system together (docs/abi.md): without it nothing
         * can be restarted, so the run ends here, loudly, never silently. */
        LOG_FAIL("init (task 1) is gone: the system cannot go on");
        panic_stop();
    }
    t->dying = true;
    obj_ref(&t->hdr); /* keep it while its threads and handles go */
    while (!list_empty(&t->threads))
        thread_kill(list_entry(list_first(&t->threads), struct thread, task_link));
    task_teardown(t);
    obj_unref(&t->hdr);
}

/* Close a dying task's handles, drop its pager, tell its watcher, free its
 * space and handle table (its threads are gone already). */
static void task_teardown(struct task *t)
{
    for (mica_handle_t h = 1; h < HANDLES_PER_TASK; h++)
        handle_close(t, h);
    if (t->pager) {
        obj_unref(&t->pager->hdr);
        t->pager = NULL;
    }
    if (t->watch) {
        /* Its supervisor learns of the end; SYS_TASK_STATUS says why. */
        struct notification *w = t->watch;
        t->watch = NULL;
        notification_signal(w, t->watch_bits);
        obj_unref(&w->hdr);
    }
    task_release(t);
}
