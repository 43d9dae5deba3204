/* test=runtime: what a server gets (docs/servers.md), checked from a
 * thread of init while init's main thread serves the name service.  The
 * ISO carries the default image (servers/servers.list: echo and the hello
 * example pair) and the test fixture rtcheck (test/guest/rtcheck/) under
 * five names, each told after `--` what to check from inside
 * (test/harness.py lists them). */
#include <mica/names.h>

#include "../../servers/hello/hello.h"
#include "guest.h"
#include "rtcheck/rtcheck.h"

/* The name service, through the suite thread's own IPC buffer. */
static mica_handle_t ns;
#define suite_buf guest_buffer

/* Call server `name` (found by name, waiting up to 5 s) with label and
 * mr0; the reply in *m, the call's status returned. */
static int call(const char *name, uint16_t label, uint64_t mr0, struct mica_msg *m)
{
    mica_handle_t h = 0;
    int st = mica_name_lookup_wait(ns, suite_buf, name, 5000000, &h);
    if (st != MICA_OK)
        return st;
    mica_msg_init(m, label);
    m->mr[0] = mr0;
    st = mica_call(h, m, MICA_TIMEOUT_INFINITE);
    mica_handle_close(h);
    return st;
}

/* Run rtcheck `name`'s check: its failures are ours. */
static void run_check(const char *name)
{
    struct mica_msg m;
    CHECK_EQ(call(name, RT_RUN, 0, &m), MICA_OK);
    CHECK_EQ(m.mr[0], 0);
    const struct server *s = servers_find(name);
    CHECK(s != NULL && s->running && s->ends == 0); /* no crash on the way */
}

/* The name service's handle, before the first case. */
static void runtime_setup(unsigned pass)
{
    (void)pass;
    ns = servers_ns_handle();
}

GUEST_SUITE(runtime, .before_pass = runtime_setup, .thread = true);

/* The example pair: the client ran to a clean exit, the server answers. */
GUEST_TEST(runtime, example_pair)
{
    const struct server *c = servers_find("hello-client");
    for (int i = 0; c && i < 500 && c->ends == 0; i++)
        mica_sleep_us(10000);
    CHECK(c != NULL && c->ends == 1 && c->last.state == MICA_TASK_EXITED && c->last.error == 0);
    struct mica_msg m;
    uint64_t packed[3];
    CHECK(mica_name_pack("init", packed));
    mica_handle_t h = 0;
    CHECK_EQ(mica_name_lookup_wait(ns, suite_buf, "hello", 1000000, &h), MICA_OK);
    mica_msg_init(&m, HELLO_SIGN);
    m.mr[1] = packed[0];
    CHECK_EQ(mica_call(h, &m, MICA_TIMEOUT_INFINITE), MICA_OK);
    CHECK_EQ(m.mr[0], MICA_OK);
    CHECK_EQ(m.mr[1], 4); /* after the client's three names */
    mica_msg_init(&m, HELLO_READ);
    m.mr[1] = 2;
    CHECK_EQ(mica_call(h, &m, MICA_TIMEOUT_INFINITE), MICA_OK);
    CHECK(mica_name_pack("Grace", packed) && m.mr[1] == packed[0]);
    mica_handle_close(h);
}

/* Waiting for a name: found at once when there, MICA_ETIMEOUT after the
 * timeout when not. */
GUEST_TEST(runtime, lookup_wait)
{
    mica_handle_t h = 0;
    uint64_t t0 = mica_time_us();
    CHECK_EQ(mica_name_lookup_wait(ns, suite_buf, "no-such-server", 50000, &h), MICA_ETIMEOUT);
    uint64_t waited = mica_time_us() - t0;
    CHECK(waited >= 50000 && waited < 1000000);
    CHECK_EQ(mica_name_lookup_wait(ns, suite_buf, "echo", 0, &h), MICA_OK);
    mica_handle_close(h);
}

/* 64 MiB through malloc in every size class, the pager count back. */
GUEST_TEST(runtime, heap)
{
    run_check("rt-heap");
}

/* Over quota=, malloc says NULL and the server lives on. */
GUEST_TEST(runtime, quota)
{
    run_check("rt-quota");
}

/* Eight threads run, share a lock and the heap, and are joined. */
GUEST_TEST(runtime, threads)
{
    run_check("rt-threads");
}

/* The own task handle does not lift the priority or mapping checks. */
GUEST_TEST(runtime, limits)
{
    run_check("rt-limits");
}

/* A restarted server gets fresh handles: a new generation, a new pager
 * client without the old instance's frames, and handles that work. */
GUEST_TEST(runtime, restart_fresh_handles)
{
    struct mica_msg m;
    CHECK_EQ(call("rt-restart", RT_RUN, 0, &m), MICA_OK);
    CHECK_EQ(m.mr[0], 0);
    CHECK_EQ(m.mr[1], 1);
    CHECK_EQ(call("rt-restart", RT_TOUCH, 64, &m), MICA_OK);
    CHECK(m.mr[3] >= 64);
    CHECK_EQ(call("rt-restart", RT_CRASH, 0, &m), MICA_EDEAD);
    const struct server *s = servers_find("rt-restart");
    for (int i = 0; s && i < 300 && s->starts < 2; i++)
        mica_sleep_us(10000);
    CHECK(s != NULL && s->starts == 2);
    CHECK_EQ(call("rt-restart", RT_RUN, 0, &m), MICA_OK);
    CHECK_EQ(m.mr[0], 0);
    CHECK_EQ(m.mr[1], 2);
    CHECK(m.mr[3] < 64); /* none of the first instance's pages */
}

/* A thread's stack overflow faults in the hole the pager leaves below its
 * region and stops the server: it never runs into other memory. */
GUEST_TEST(runtime, stack_overflow_stops)
{
    struct mica_msg m;
    CHECK_EQ(call("rt-overflow", RT_RUN, 0, &m), MICA_OK);
    uint64_t base = m.mr[2];
    const struct server *s = servers_find("rt-overflow");
    for (int i = 0; s && i < 300 && s->ends == 0; i++)
        mica_sleep_us(10000);
    CHECK(s != NULL && s->ends == 1);
    if (s != NULL) {
        CHECK_EQ(s->last.state, MICA_TASK_FAULTED);
        CHECK_EQ(s->last.vector, 14);
        CHECK(s->last.addr < base && s->last.addr >= base - (64u << 10));
    }
}

/* Nothing the servers did stopped another: every module is up. */
GUEST_TEST(runtime, all_up)
{
    const char *up[] = {"echo", "hello", "rt-heap", "rt-quota", "rt-threads", "rt-limits", "rt-restart"};
    for (unsigned i = 0; i < sizeof up / sizeof up[0]; i++) {
        const struct server *s = servers_find(up[i]);
        CHECK(s != NULL && s->running);
    }
}
