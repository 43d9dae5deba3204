/* test=servers: the server manager, checked from a thread of init while
 * init's main thread serves the name service.  The ISO for this test
 * carries, besides init and the pager: an echo server (restart=on-failure),
 * one crasher module per exception kind, a crasher restarted until its
 * limit, a handful of malformed ELF modules, and echo modules with a wrong
 * and a right sha1= (test/harness.py lists them). */
#include <mica/names.h>
#include <mica/pager.h>

#include "../crasher/crasher.h"
#include "base/str.h"
#include "check.h"
#include "init.h"

#define ECHO_CRASH 0x666

static int failures;

int crash_kind_from_name(const char *name, size_t len)
{
    return crash_parse(name, len);
}

static mica_handle_t ns;
static struct mica_ipc_buffer *suite_buf;

/* Wait up to 3 s for server `name` to have ended `ends` times. */
static const struct server *wait_ends(const char *name, unsigned ends)
{
    const struct server *s = servers_find(name);
    for (int i = 0; s && i < 300 && s->ends < ends; i++)
        mica_sleep_us(10000);
    return s;
}

static const struct {
    const char *name;
    uint64_t state, vector;
} crashes[] = {
    {"crash-pf", MICA_TASK_FAULTED, 14},       {"crash-null", MICA_TASK_FAULTED, 14},
    {"crash-rodata", MICA_TASK_FAULTED, 14},   {"crash-nx", MICA_TASK_FAULTED, 14},
    {"crash-ud", MICA_TASK_FAULTED, 6},        {"crash-gp", MICA_TASK_FAULTED, 13},
    {"crash-noncanon", MICA_TASK_FAULTED, 13}, {"crash-de", MICA_TASK_FAULTED, 0},
    {"crash-bp", MICA_TASK_FAULTED, 3},        {"crash-stack", MICA_TASK_FAULTED, 14},
    {"crash-io", MICA_TASK_FAULTED, 13},       {"crash-ok", MICA_TASK_EXITED, 0},
};

static const char *const bad_modules[] = {
    "bad-truncated", "bad-magic",   "bad-class32", "bad-machine",     "bad-phdrs",
    "bad-filesz",    "bad-overlap", "bad-wx",      "bad-kernel-half", "bad-too-many",
};

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

static int tap_n;

/* Print one TAP line for the checks since the last one. */
static void tap(const char *name)
{
    tap_n++;
    mica_printf("%s %d - servers/%s\n", failures ? "not ok" : "ok", tap_n, name);
}

static int failed_total;

static void end_case(const char *name)
{
    failed_total += failures != 0;
    tap(name);
    failures = 0;
}

static void suite(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)arg;
    suite_buf = buf; /* this thread's own IPC buffer, for the name calls */
    ns = servers_ns_handle();
    int ncrash = (int)(sizeof crashes / sizeof crashes[0]);
    int nbad = (int)(sizeof bad_modules / sizeof bad_modules[0]);
    mica_printf("TAP version 13\n1..%d\n", ncrash + nbad + 6);

    for (int i = 0; i < ncrash; i++) {
        const struct server *s = wait_ends(crashes[i].name, 1);
        CHECK(s != NULL);
        if (s) {
            CHECK_EQ(s->ends, 1);
            CHECK_EQ(s->last.state, crashes[i].state);
            if (crashes[i].state == MICA_TASK_FAULTED)
                CHECK_EQ(s->last.vector, crashes[i].vector);
            CHECK_EQ(s->running, 0);
        }
        end_case(crashes[i].name);
    }
    for (int i = 0; i < nbad; i++) {
        const struct server *s = servers_find(bad_modules[i]);
        CHECK(s != NULL && s->refused && !s->running);
        end_case(bad_modules[i]);
    }

    const struct server *s = wait_ends("crash-again", 3);
    CHECK(s != NULL && s->starts == 3 && s->ends == 3 && s->gave_up); /* first start + 2 restarts */
    end_case("restart_limit");

    s = wait_ends("good-tiny", 1); /* the control: a valid tiny program runs and exits */
    CHECK(s != NULL && s->starts == 1 && s->last.state == MICA_TASK_EXITED);
    end_case("valid_tiny_elf_runs");

    s = servers_find("echo-badsum");
    CHECK(s != NULL && s->refused && s->starts == 0);
    s = servers_find("echo-goodsum");
    CHECK(s != NULL && !s->refused && s->starts == 1);
    end_case("sha1_checked");

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
    end_case("name_service");

    /* Restart with a client in the middle of a call: echo dies while we
     * wait for its reply; we get an error, not a hang; it comes back under
     * its name and answers again. */
    mica_handle_t echo = 0;
    CHECK_EQ(mica_name_lookup(ns, suite_buf, "echo", &echo), MICA_OK);
    struct mica_msg m;
    mica_msg_init(&m, ECHO_CRASH);
    CHECK_EQ(mica_call(echo, &m, MICA_TIMEOUT_INFINITE), MICA_EDEAD);
    CHECK_EQ(mica_call(echo, &m, MICA_TIMEOUT_POLL), MICA_EDEAD); /* the old endpoint has no receiver */
    mica_handle_close(echo);
    s = wait_ends("echo", 1);
    for (int i = 0; i < 100 && s && s->starts < 2; i++)
        mica_sleep_us(10000);
    CHECK(s != NULL && s->starts == 2 && s->running);
    int st = MICA_EBADH;
    for (int i = 0; i < 100 && (st = call_echo()) == MICA_EBADH; i++)
        mica_sleep_us(10000); /* until it has registered again */
    CHECK_EQ(st, MICA_OK);
    end_case("restart_mid_call");

    /* Everything else went on: the kernel, the pager. */
    uint64_t base = 0;
    CHECK_EQ(mica_null(), MICA_OK);
    CHECK_EQ(mica_vm_alloc(pager_self, 4096, &base), MICA_OK);
    *(volatile uint64_t *)(uintptr_t)base = 7;
    CHECK_EQ(mica_vm_free(pager_self, base, 4096), MICA_OK);
    end_case("system_goes_on");

    mica_printf("# servers: passed=%d failed=%d\n", tap_n - failed_total, failed_total);
    mica_debug_shutdown(failed_total != 0);
}

int servers_suite_run(void)
{
    mica_handle_t th = 0;
    return spawn_local(suite, 0, 30, &th) == MICA_OK ? 0 : 1;
}
