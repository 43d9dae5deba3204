/* hello: the example server.  Copy this folder to start a new server
 * (docs/servers.md walks through it).  It shows the four things most
 * servers need:
 *   - a name: it registers its endpoint as "hello" with init's name service;
 *   - a heap: its guest book is a table in malloc'ed memory that grows
 *     with realloc (the memory comes from its pager, within its quota=);
 *   - threads: two threads answer calls on the same endpoint, one lock
 *     keeps the table consistent; while one waits (HELLO_WAIT) the other
 *     keeps serving;
 *   - shared memory: a client shares a page with it through the pager and
 *     it reads and writes that page (HELLO_GREET).
 * The protocol is in hello.h.  It trusts its clients: a real server
 * checks what it is told (HELLO_GREET's address could be anything). */
#include <mica/names.h>
#include <mica/runtime.h>

#include "hello.h"

/* The name clients find it under. */
#define SERVICE "hello"

/* The guest book: names, one after another, in a table on the heap. */
struct entry {
    uint64_t name[3]; /* packed as by mica_name_pack */
};
static struct entry *book;
static uint64_t signed_count, capacity;
static struct mica_lock book_lock = MICA_LOCK_INIT;
static mica_handle_t signed_ntf; /* signalled at every signature, for HELLO_WAIT */

/* Add a name; its number (from 1), or 0 when the heap is full. */
static uint64_t book_sign(const uint64_t name[3])
{
    uint64_t number = 0;
    mica_lock(&book_lock);
    if (signed_count == capacity) {
        /* Grow the table: realloc keeps what it holds. */
        uint64_t want = capacity ? capacity * 2 : 4;
        struct entry *bigger = realloc(book, want * sizeof *book);
        if (bigger != NULL) {
            book = bigger;
            capacity = want;
        }
    }
    if (signed_count < capacity) {
        book[signed_count] = (struct entry){{name[0], name[1], name[2]}};
        number = ++signed_count;
    }
    mica_unlock(&book_lock);
    mica_notify_signal(signed_ntf, 1); /* wake a thread blocked in book_wait */
    return number;
}

/* Block this thread until the book holds n names, or 5 s have passed;
 * how many it holds then.  While one thread waits here, the other one
 * answers calls: that is what the second thread is for. */
static uint64_t book_wait(uint64_t n)
{
    uint64_t deadline = mica_time_us() + 5000000;
    for (;;) {
        mica_lock(&book_lock);
        uint64_t have = signed_count;
        mica_unlock(&book_lock);
        uint64_t now = mica_time_us();
        if (have >= n || now >= deadline)
            return have;
        mica_notify_wait(signed_ntf, NULL, deadline - now);
    }
}

/* Write "Hello, NAME!" after the NUL-terminated name at the start of the
 * shared page at `page`; the bytes written, or 0 if the page holds no name. */
static uint64_t greet(uint64_t page)
{
    char *text = (char *)(uintptr_t)page; /* a page of the client's, shared with us */
    size_t n = 0;
    while (n < 64 && text[n] != '\0')
        n++;
    if (n == 0 || n == 64)
        return 0;
    char *out = text + n + 1, *p = out;
    const char *hello = "Hello, ";
    while (*hello)
        *p++ = *hello++;
    for (size_t i = 0; i < n; i++)
        *p++ = text[i];
    *p++ = '!';
    *p = '\0';
    return (uint64_t)(p - out);
}

/* One call (mica_serve's handler): m becomes the reply.  ctx says which
 * thread runs it. */
static void hello(void *ctx, uint64_t badge, struct mica_msg *m, struct mica_ipc_buffer *buf)
{
    (void)badge, (void)buf;
    const struct mica_start *me = mica_start_info();
    uint64_t status = MICA_OK, result = 0;
    switch (mica_msg_label(m)) {
    case HELLO_SIGN: {
        uint64_t name[3] = {m->mr[1], m->mr[2], m->mr[3]};
        result = book_sign(name);
        status = result ? MICA_OK : (uint64_t)MICA_ENOMEM;
        break;
    }
    case HELLO_READ: {
        uint64_t i = m->mr[1];
        mica_lock(&book_lock);
        bool ok = i >= 1 && i <= signed_count;
        struct entry e = ok ? book[i - 1] : (struct entry){{0}};
        mica_unlock(&book_lock);
        mica_msg_init(m, 0);
        m->mr[0] = ok ? MICA_OK : (uint64_t)MICA_EINVAL;
        m->mr[1] = e.name[0];
        m->mr[2] = e.name[1];
        m->mr[3] = e.name[2];
        return; /* this reply has no room for the thread number */
    }
    case HELLO_WAIT:
        result = book_wait(m->mr[1]);
        status = result >= m->mr[1] ? MICA_OK : (uint64_t)MICA_ETIMEOUT;
        break;
    case HELLO_WHO:
        result = me->pager_client;
        break;
    case HELLO_GREET:
        result = greet(m->mr[1]);
        status = result ? MICA_OK : (uint64_t)MICA_EINVAL;
        break;
    default:
        status = (uint64_t)MICA_EINVAL;
    }
    mica_msg_init(m, 0);
    m->mr[0] = status;
    m->mr[1] = result;
    m->mr[3] = (uint64_t)(uintptr_t)ctx;
}

static mica_handle_t ep;

/* The second thread: the same loop on the same endpoint, with its own IPC
 * buffer (each thread must use its own). */
static void second(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)arg;
    mica_serve(ep, buf, hello, (void *)1);
}

int main(const struct mica_bootinfo *bi, uint64_t arg)
{
    (void)bi, (void)arg;
    const struct mica_start *me = mica_start_info(); /* what init gave us */
    struct mica_thread t;
    if (me == NULL || mica_endpoint_create(&ep) != MICA_OK ||
        mica_notification_create(&signed_ntf) != MICA_OK ||
        mica_thread_new(second, 0, me->prio, &t) != MICA_OK ||
        mica_name_register(me->names, mica_ipcbuf, SERVICE, ep) != MICA_OK) {
        mica_puts("[FAIL] " SERVICE ": cannot start");
        return 1;
    }
    mica_printf("[ OK ] %s: serving on two threads as \"%s\"\n", me->name, SERVICE);
    return mica_serve(ep, mica_ipcbuf, hello, (void *)0); /* only if ep dies */
}
