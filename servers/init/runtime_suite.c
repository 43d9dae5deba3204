/* test=runtime: what a server gets (docs/servers.md), checked from a
 * thread of init while init's main thread serves the name service.  The
 * ISO carries the default image (servers/servers.list: echo and the hello
 * example pair) and the test server rtcheck under five names, each told
 * after `--` what to check from inside (test/harness.py lists them). */
#include <mica/names.h>

#include "../rtcheck/rtcheck.h"
#include "check.h"
#include "init.h"

/* From servers/hello/hello.h: the example's protocol. */
#include "../hello/hello.h"

static int failures, failed_total, tap_n;
static mica_handle_t ns;
static struct mica_ipc_buffer *suite_buf;

/* One TAP line for the checks since the last one. */
static void end_case(const char *name)
{
    failed_total += failures != 0;
    tap_n++;
    mica_printf("%s %d - runtime/%s\n", failures ? "not ok" : "ok", tap_n, name);
    failures = 0;
}

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
    end_case(name + 3);
}

/* The example pair: the client ran to a clean exit, the server answers. */
static void example_pair(void)
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
    end_case("example_pair");
}

/* Waiting for a name: found at once when there, MICA_ETIMEOUT after the
 * timeout when not. */
static void lookup_wait(void)
{
    mica_handle_t h = 0;
    uint64_t t0 = mica_time_us();
    CHECK_EQ(mica_name_lookup_wait(ns, suite_buf, "no-such-server", 50000, &h), MICA_ETIMEOUT);
    uint64_t waited = mica_time_us() - t0;
    CHECK(waited >= 50000 && waited < 1000000);
    CHECK_EQ(mica_name_lookup_wait(ns, suite_buf, "echo", 0, &h), MICA_OK);
    mica_handle_close(h);
    end_case("lookup_wait");
}

/* A restarted server gets fresh handles: a new generation, a new pager
 * client without the old instance's frames, and handles that work. */
static void restart(void)
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
    end_case("restart_fresh_handles");
}

static void suite(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)arg;
    suite_buf = buf;
    ns = servers_ns_handle();
    mica_printf("TAP version 13\n1..8\n");
    example_pair();
    lookup_wait();
    run_check("rt-heap");
    run_check("rt-quota");
    run_check("rt-threads");
    run_check("rt-limits");
    restart();
    /* Nothing the servers did stopped another: every module is up. */
    const char *up[] = {"echo", "hello", "rt-heap", "rt-quota", "rt-threads", "rt-limits", "rt-restart"};
    for (unsigned i = 0; i < sizeof up / sizeof up[0]; i++) {
        const struct server *s = servers_find(up[i]);
        CHECK(s != NULL && s->running);
    }
    end_case("all_up");
    mica_printf("# runtime: passed=%d failed=%d\n", tap_n - failed_total, failed_total);
    mica_debug_shutdown(failed_total != 0);
}

int runtime_suite_run(void)
{
    mica_handle_t th = 0;
    return spawn_local(suite, 0, 30, &th) == MICA_OK ? 0 : 1;
}
