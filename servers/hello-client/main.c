/* hello-client: the example client of servers/hello/.  It finds the
 * server by name (waiting if it is not up yet); one thread asks the server
 * to wait for three signatures while a second thread signs its guest book
 * with the words of its module line (servers.list: `-- Ada Grace Barbara`)
 * and reads them back, so both server threads answer; then it has the
 * server greet the first name through a page they share through the pager.  It prints what it got and exits:
 * 0 when every answer was right. */
#include <mica/names.h>
#include <mica/pager.h>
#include <mica/runtime.h>

#include "../hello/hello.h"

/* The name of the server it calls. */
#define SERVER "hello"

static mica_handle_t hello;

/* One call: label and mr1 in, the reply in *m; its status. */
static int call(uint16_t label, uint64_t mr1, struct mica_msg *m)
{
    mica_msg_init(m, label);
    m->mr[1] = mr1;
    int st = mica_call(hello, m, MICA_TIMEOUT_INFINITE);
    return st != MICA_OK ? st : (int)(int64_t)m->mr[0];
}

/* Sign the book with name and read it back; true when both worked.  The
 * answering thread goes to *thread. */
static bool sign_and_read(const char *name, uint64_t *thread)
{
    struct mica_msg m;
    uint64_t packed[3];
    if (!mica_name_pack(name, packed))
        return false;
    mica_msg_init(&m, HELLO_SIGN);
    m.mr[1] = packed[0], m.mr[2] = packed[1], m.mr[3] = packed[2];
    if (mica_call(hello, &m, MICA_TIMEOUT_INFINITE) != MICA_OK || m.mr[0] != MICA_OK)
        return false;
    uint64_t number = m.mr[1];
    *thread = m.mr[3];
    if (call(HELLO_READ, number, &m) != MICA_OK)
        return false;
    mica_printf("%s: signed \"%s\" as number %llu (thread %llu answered)\n", mica_start_info()->name, name,
                (unsigned long long)number, (unsigned long long)*thread);
    return m.mr[1] == packed[0] && m.mr[2] == packed[1] && m.mr[3] == packed[2];
}

/* Share a page with the server, put name in it, and have it greeted. */
static bool greet_through_shared_page(const char *name)
{
    const struct mica_start *me = mica_start_info();
    struct mica_msg m;
    uint64_t page = 0, there = 0;
    if (call(HELLO_WHO, 0, &m) != MICA_OK || mica_region_alloc(MICA_PAGE_SIZE, &page) != MICA_OK)
        return false;
    char *text = (char *)(uintptr_t)page;
    size_t n = 0;
    for (; name[n] != '\0' && n < 32; n++)
        text[n] = name[n];
    text[n] = '\0';
    /* The pager gives the server the same frame at an address of its own. */
    bool ok =
        mica_vm_share(me->pager, page, m.mr[1], &there) == MICA_OK && call(HELLO_GREET, there, &m) == MICA_OK;
    if (ok)
        mica_printf("%s: the server wrote into our shared page: \"%s\"\n", me->name, text + n + 1);
    ok = ok && text[n + 1] == 'H' && text[n + 1 + m.mr[1] - 1] == '!';
    mica_region_free(page, MICA_PAGE_SIZE); /* unshares it too */
    return ok;
}

static bool signed_ok = true;
static uint64_t signer_thread; /* the server thread that answered the signatures */

/* The signing thread: one signature per word of the module line. */
static void signer(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)arg, (void)buf; /* short messages only: no IPC buffer needed */
    const struct mica_start *me = mica_start_info();
    for (uint32_t i = 0; i < me->argc; i++)
        signed_ok = sign_and_read(me->argv[i], &signer_thread) && signed_ok;
}

/* Ask the server to wait for our signatures while a thread of ours, one
 * priority lower, makes them: it runs only once this call is waiting in
 * one server thread, so the other server thread must answer it. */
static bool wait_while_signing(void)
{
    const struct mica_start *me = mica_start_info();
    struct mica_thread t;
    struct mica_msg m;
    if (mica_thread_new(signer, 0, me->prio - 1, &t) != MICA_OK)
        return false;
    int st = call(HELLO_WAIT, me->argc, &m);
    mica_thread_join(&t, MICA_TIMEOUT_INFINITE);
    mica_printf("%s: server thread %llu waited for %llu names while thread %llu took them\n", me->name,
                (unsigned long long)m.mr[3], (unsigned long long)m.mr[1], (unsigned long long)signer_thread);
    return st == MICA_OK && signed_ok && m.mr[1] == me->argc && m.mr[3] != signer_thread;
}

int main(const struct mica_bootinfo *bi, uint64_t arg)
{
    (void)bi, (void)arg;
    const struct mica_start *me = mica_start_info();
    if (me == NULL || me->argc == 0)
        return 2;
    /* The server may start after us: wait up to 5 s for its name. */
    int st = mica_name_lookup_wait(me->names, mica_ipcbuf, SERVER, 5000000, &hello);
    if (st != MICA_OK) {
        mica_printf("[FAIL] %s: no server named \"%s\" (%d)\n", me->name, SERVER, st);
        return 1;
    }
    bool ok = wait_while_signing();
    ok = greet_through_shared_page(me->argv[0]) && ok;
    mica_printf("%s %s: %s\n", ok ? "[ OK ]" : "[FAIL]", me->name,
                ok ? "every answer was right" : "a wrong answer (above)");
    return ok ? 0 : 1;
}
