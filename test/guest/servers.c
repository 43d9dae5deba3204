/* test=servers: the server manager, checked from a thread of init while
 * init's main thread serves the name service.  The ISO for this test
 * carries, besides init and the pager: an echo server (restart=on-failure),
 * one crasher module per exception kind, a crasher restarted until its
 * limit, a handful of malformed ELF modules, and echo modules with a wrong
 * and a right sha1= (test/harness.py lists them). */
#include <mica/names.h>
#include <mica/pager.h>

#include "base/str.h"
#include "guest.h"

#define ECHO_CRASH 0x666

/* The name service, through the suite thread's own IPC buffer. */
static mica_handle_t ns;
#define suite_buf guest_buffer

/* Wait up to 3 s for server `name` to have ended `ends` times. */
static const struct server *wait_ends(const char *name, unsigned ends)
{
    const struct server *s = servers_find(name);
    for (int i = 0; s && i < 300 && s->ends < ends; i++)
        mica_sleep_us(10000);
    return s;
}

/* Call echo through a fresh lookup; its status (the reply checked). */
static int call_echo(void)
{
    mica_handle_t echo = 0;
    int st = mica_name_lookup(ns, suite_buf, "echo", &echo);
    if (st != MICA_OK)
        return st;
    struct mica_msg m;
    mica_msg_init(&m, 5);
    m.mr[0] = 41;
    st = mica_call(echo, &m, MICA_TIMEOUT_INFINITE);
    if (st == MICA_OK && (mica_msg_label(&m) != 6 || m.mr[0] != 42))
        st = MICA_EINVAL;
    mica_handle_close(echo);
    return st;
}

/* The name service's handle, before the first case. */
static void servers_setup(unsigned pass)
{
    (void)pass;
    ns = servers_ns_handle();
}

GUEST_SUITE(servers, .before_pass = servers_setup, .thread = true);

/* The crasher module `name` ended once, the way its kind makes it end. */
static void check_crash(const char *name, uint64_t state, uint64_t vector)
{
    const struct server *s = wait_ends(name, 1);
    CHECK(s != NULL);
    if (s) {
        CHECK_EQ(s->ends, 1);
        CHECK_EQ(s->last.state, state);
        if (state == MICA_TASK_FAULTED)
            CHECK_EQ(s->last.vector, vector);
        CHECK_EQ(s->running, 0);
    }
}

/* A case per crasher module (test/harness.py's CRASHES): fn checks name. */
#define CRASH_CASE(fn, name, state, vector)                                                                  \
    static void fn(void)                                                                                     \
    {                                                                                                        \
        check_crash(name, state, vector);                                                                    \
    }                                                                                                        \
    GUEST_CASE(servers, name, fn)

CRASH_CASE(crash_pf, "crash-pf", MICA_TASK_FAULTED, 14);
CRASH_CASE(crash_null, "crash-null", MICA_TASK_FAULTED, 14);
CRASH_CASE(crash_rodata, "crash-rodata", MICA_TASK_FAULTED, 14);
CRASH_CASE(crash_nx, "crash-nx", MICA_TASK_FAULTED, 14);
CRASH_CASE(crash_ud, "crash-ud", MICA_TASK_FAULTED, 6);
CRASH_CASE(crash_gp, "crash-gp", MICA_TASK_FAULTED, 13);
CRASH_CASE(crash_noncanon, "crash-noncanon", MICA_TASK_FAULTED, 13);
CRASH_CASE(crash_de, "crash-de", MICA_TASK_FAULTED, 0);
CRASH_CASE(crash_bp, "crash-bp", MICA_TASK_FAULTED, 3);
CRASH_CASE(crash_stack, "crash-stack", MICA_TASK_FAULTED, 14);
CRASH_CASE(crash_io, "crash-io", MICA_TASK_FAULTED, 13);
CRASH_CASE(crash_ok, "crash-ok", MICA_TASK_EXITED, 0);

/* A case per malformed ELF module (BAD_ELFS): refused, never ran. */
#define BAD_MODULE_CASE(fn, name)                                                                            \
    static void fn(void)                                                                                     \
    {                                                                                                        \
        const struct server *s = servers_find(name);                                                         \
        CHECK(s != NULL && s->refused && !s->running);                                                       \
    }                                                                                                        \
    GUEST_CASE(servers, name, fn)

BAD_MODULE_CASE(bad_truncated, "bad-truncated");
BAD_MODULE_CASE(bad_magic, "bad-magic");
BAD_MODULE_CASE(bad_class32, "bad-class32");
BAD_MODULE_CASE(bad_machine, "bad-machine");
BAD_MODULE_CASE(bad_phdrs, "bad-phdrs");
BAD_MODULE_CASE(bad_filesz, "bad-filesz");
BAD_MODULE_CASE(bad_overlap, "bad-overlap");
BAD_MODULE_CASE(bad_wx, "bad-wx");
BAD_MODULE_CASE(bad_kernel_half, "bad-kernel-half");
BAD_MODULE_CASE(bad_too_many, "bad-too-many");

GUEST_TEST(servers, restart_limit)
{
    const struct server *s = wait_ends("crash-again", 3);
    CHECK(s != NULL && s->starts == 3 && s->ends == 3 && s->gave_up); /* first start + 2 restarts */
}

GUEST_TEST(servers, valid_tiny_elf_runs)
{
    const struct server *s = wait_ends("good-tiny", 1); /* the control: a valid tiny program runs and exits */
    CHECK(s != NULL && s->starts == 1 && s->last.state == MICA_TASK_EXITED);
}

GUEST_TEST(servers, sha1_checked)
{
    const struct server *s = servers_find("echo-badsum");
    CHECK(s != NULL && s->refused && s->starts == 0);
    s = servers_find("echo-goodsum");
    CHECK(s != NULL && !s->refused && s->starts == 1);
}

GUEST_TEST(servers, name_service)
{
    CHECK_EQ(call_echo(), MICA_OK);
    mica_handle_t none = 0;
    CHECK_EQ(mica_name_lookup(ns, suite_buf, "no-such-server", &none), MICA_EBADH);
    mica_handle_t ep = 0;
    CHECK_EQ(mica_endpoint_create(&ep), MICA_OK);
    CHECK_EQ(mica_name_register(ns, suite_buf, "echo", ep), MICA_EEXISTS); /* taken */
    CHECK_EQ(mica_name_register(ns, suite_buf, "init-test", ep), MICA_OK);
    mica_handle_t back = 0;
    CHECK_EQ(mica_name_lookup(ns, suite_buf, "init-test", &back), MICA_OK);
    uint32_t type = 0;
    CHECK_EQ(mica_handle_info(back, &type, NULL, NULL), MICA_OK);
    CHECK_EQ(type, MICA_OBJ_ENDPOINT);
    CHECK_EQ(mica_name_register(ns, suite_buf, "a-name-far-too-long-for-the-service", ep), MICA_EINVAL);
    mica_handle_close(back);
}

/* Restart with a client in the middle of a call: echo dies while we wait
 * for its reply; we get an error, not a hang; it comes back under its name
 * and answers again. */
GUEST_TEST(servers, restart_mid_call)
{
    mica_handle_t echo = 0;
    CHECK_EQ(mica_name_lookup(ns, suite_buf, "echo", &echo), MICA_OK);
    struct mica_msg m;
    mica_msg_init(&m, ECHO_CRASH);
    CHECK_EQ(mica_call(echo, &m, MICA_TIMEOUT_INFINITE), MICA_EDEAD);
    CHECK_EQ(mica_call(echo, &m, MICA_TIMEOUT_POLL), MICA_EDEAD); /* the old endpoint has no receiver */
    mica_handle_close(echo);
    const struct server *s = wait_ends("echo", 1);
    for (int i = 0; i < 100 && s && s->starts < 2; i++)
        mica_sleep_us(10000);
    CHECK(s != NULL && s->starts == 2 && s->running);
    int st = MICA_EBADH;
    for (int i = 0; i < 100 && (st = call_echo()) == MICA_EBADH; i++)
        mica_sleep_us(10000); /* until it has registered again */
    CHECK_EQ(st, MICA_OK);
}

/* Everything else went on: the kernel, the pager. */
GUEST_TEST(servers, system_goes_on)
{
    uint64_t base = 0;
    CHECK_EQ(mica_null(), MICA_OK);
    CHECK_EQ(mica_vm_alloc(pager_self, 4096, &base), MICA_OK);
    *(volatile uint64_t *)(uintptr_t)base = 7;
    CHECK_EQ(mica_vm_free(pager_self, base, 4096), MICA_OK);
}
