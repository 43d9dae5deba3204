/* The in-guest IPC regression suite (test=ipc on the kernel command line):
 * TAP on the serial line, one line per case.  Each case cleans up after
 * itself (servers exit when their endpoint dies; child tasks are killed), and
 * the last case checks that the kernel's object counts are back where they
 * were before the first.  The whole suite runs twice: with the IPC fastpath
 * on and with it off, so both paths must give the same results. */
#include "guest.h"

#define INF MICA_TIMEOUT_INFINITE
#define POLL MICA_TIMEOUT_POLL
#define SERVER_PRIO 40
#define LABEL_ECHO 7
#define LABEL_EXIT 99

/* ---- servers ------------------------------------------------------------- */

/* Echo server: each call gets back label+1, mr[i]+i+1, the badge in mr[3]
 * and its long words +1.  Label LABEL_EXIT, or its endpoint dying, ends it. */
static void echo_server(uint64_t ep, struct mica_ipc_buffer *buf)
{
    struct mica_msg m;
    uint64_t badge;
    int st = mica_recv((mica_handle_t)ep, &m, &badge, INF);
    while (st == MICA_OK && mica_msg_label(&m) != LABEL_EXIT) {
        uint32_t words = mica_msg_words(&m);
        for (uint32_t i = 0; i < words; i++)
            buf->words[i]++;
        m.info = MICA_INFO(mica_msg_label(&m) + 1, words, 0);
        m.mr[0] += 1;
        m.mr[1] += 2;
        m.mr[2] += 3;
        m.mr[3] = badge;
        st = mica_reply_recv((mica_handle_t)ep, &m, &badge, INF);
        while (st != MICA_OK && st != MICA_EDEAD && st != MICA_EBADH)
            st = mica_recv((mica_handle_t)ep, &m, &badge, INF);
    }
    if (st == MICA_OK)
        mica_reply(&m);
}

/* Receive without ever replying, then wait for the endpoint to die. */
static void silent_server(uint64_t ep, struct mica_ipc_buffer *buf)
{
    (void)buf;
    struct mica_msg m;
    uint64_t badge;
    while (mica_recv((mica_handle_t)ep, &m, &badge, INF) == MICA_OK)
        ;
}

/* Send once (mr[0] = the index in the argument's high half), then exit. */
static void indexed_sender(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)buf;
    struct mica_msg m;
    mica_msg_init(&m, LABEL_ECHO);
    m.mr[0] = arg >> 32;
    mica_send((mica_handle_t)(arg & 0xffffffffu), &m, INF);
}

/* Call once and return; touches no global (it runs in child tasks, which
 * see init's data read-only). */
static void plain_call(uint64_t ep, struct mica_ipc_buffer *buf)
{
    (void)buf;
    struct mica_msg m;
    mica_msg_init(&m, LABEL_ECHO);
    mica_call((mica_handle_t)ep, &m, INF);
}

/* Receive a message carrying a handle and call through that handle (for
 * child tasks: no global is written). */
static void handle_forwarder(uint64_t ep, struct mica_ipc_buffer *buf)
{
    struct mica_msg m;
    uint64_t badge;
    if (mica_recv((mica_handle_t)ep, &m, &badge, INF) != MICA_OK)
        return;
    plain_call(mica_buf_recv_handle(buf, &m, 0), buf);
}

/* A client of a shared counter server: 50 calls with its own badge. */
static void counting_client(uint64_t ep, struct mica_ipc_buffer *buf)
{
    (void)buf;
    for (int i = 0; i < 50; i++) {
        struct mica_msg m;
        mica_msg_init(&m, LABEL_ECHO);
        m.mr[0] = (uint64_t)i;
        if (mica_call((mica_handle_t)ep, &m, INF) != MICA_OK || m.mr[0] != (uint64_t)i + 1)
            break;
    }
}

/* Block on a notification and record the bits in the word at arg. */
static volatile uint64_t shared_word;
static volatile int shared_status;

static void notify_waiter(uint64_t ntf, struct mica_ipc_buffer *buf)
{
    (void)buf;
    uint64_t bits = 0;
    shared_status = mica_notify_wait((mica_handle_t)ntf, &bits, INF);
    shared_word = bits;
}

/* Wait to receive and record the status (for abort and death cases). */
static void record_recv(uint64_t ep, struct mica_ipc_buffer *buf)
{
    (void)buf;
    struct mica_msg m;
    uint64_t badge;
    shared_status = 1;
    shared_status = mica_recv((mica_handle_t)ep, &m, &badge, INF);
}

/* Call and record the status. */
static void record_call(uint64_t ep, struct mica_ipc_buffer *buf)
{
    (void)buf;
    struct mica_msg m;
    mica_msg_init(&m, LABEL_ECHO);
    shared_status = 1;
    shared_status = mica_call((mica_handle_t)ep, &m, INF);
}

/* Append the value of arg to a global order log. */
static volatile uint64_t order_log[8];
static volatile int order_len;

static void log_order(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)buf;
    order_log[order_len++] = arg;
}

/* Spin, yielding, and count; stops when shared_word becomes 1. */
static volatile uint64_t spin_counts[2];

static void yield_spinner(uint64_t idx, struct mica_ipc_buffer *buf)
{
    (void)buf;
    while (shared_word == 0) {
        spin_counts[idx]++;
        mica_yield();
    }
}

/* Spin without yielding until shared_word becomes 1 (preemption must
 * still let others run). */
static void busy_spinner(uint64_t idx, struct mica_ipc_buffer *buf)
{
    (void)buf;
    while (shared_word == 0)
        spin_counts[idx]++;
}

/* Touch memory nobody gave this task. */
static void wild_writer(uint64_t addr, struct mica_ipc_buffer *buf)
{
    (void)buf;
    *(volatile uint64_t *)(uintptr_t)addr = 1;
}

/* ---- helpers ------------------------------------------------------------- */

static mica_handle_t new_endpoint(void)
{
    mica_handle_t ep = 0;
    CHECK_EQ(mica_endpoint_create(&ep), MICA_OK);
    return ep;
}

/* Let lower-priority threads run for a while (sleep a few ticks). */
static void settle(void)
{
    mica_sleep_us(3000);
}

/* One echo call with mr = {1, 2, 3, 0}; checks the echo. */
static int echo_once(mica_handle_t ep, uint64_t expect_badge)
{
    struct mica_msg m;
    mica_msg_init(&m, LABEL_ECHO);
    m.mr[0] = 1;
    m.mr[1] = 2;
    m.mr[2] = 3;
    int st = mica_call(ep, &m, INF);
    if (st != MICA_OK)
        return st;
    CHECK_EQ(mica_msg_label(&m), LABEL_ECHO + 1);
    CHECK_EQ(m.mr[0], 2);
    CHECK_EQ(m.mr[1], 4);
    CHECK_EQ(m.mr[2], 6);
    CHECK_EQ(m.mr[3], expect_badge);
    return MICA_OK;
}

/* Stop a local echo server by closing its endpoint (it exits on EDEAD). */
static void close_and_settle(mica_handle_t h)
{
    mica_handle_close(h);
    settle();
}

/* Kill a child task and drop the handles. */
static void kill_child(mica_handle_t task, mica_handle_t thread)
{
    /* A child whose last thread already returned has ended by itself. */
    int st = mica_task_kill(task);
    CHECK(st == MICA_OK || st == MICA_EDEAD);
    mica_handle_close(thread);
    mica_handle_close(task);
}

/* ---- cases --------------------------------------------------------------- */

static void t_null_syscall(void)
{
    CHECK_EQ(mica_null(), MICA_OK);
}

static void t_unknown_syscall(void)
{
    CHECK_EQ(mica_syscall0(999, NULL), MICA_ENOSYS);
    CHECK_EQ(mica_syscall0(SYS_COUNT, NULL), MICA_ENOSYS);
}

static void t_endpoint_create_info(void)
{
    mica_handle_t ep = new_endpoint();
    uint32_t type = 0, rights = 0;
    uint64_t badge = 1;
    CHECK_EQ(mica_handle_info(ep, &type, &rights, &badge), MICA_OK);
    CHECK_EQ(type, MICA_OBJ_ENDPOINT);
    CHECK_EQ(rights, MICA_R_SEND | MICA_R_RECV | MICA_R_TRANSFER);
    CHECK_EQ(badge, 0);
    mica_handle_close(ep);
}

static void t_send_poll_no_receiver(void)
{
    mica_handle_t ep = new_endpoint();
    struct mica_msg m;
    mica_msg_init(&m, 1);
    CHECK_EQ(mica_send(ep, &m, POLL), MICA_ETIMEOUT);
    CHECK_EQ(mica_call(ep, &m, POLL), MICA_ETIMEOUT);
    mica_handle_close(ep);
}

static void t_recv_poll_no_sender(void)
{
    mica_handle_t ep = new_endpoint();
    struct mica_msg m;
    uint64_t badge;
    CHECK_EQ(mica_recv(ep, &m, &badge, POLL), MICA_ETIMEOUT);
    mica_handle_close(ep);
}

static void t_recv_bounded_timeout(void)
{
    mica_handle_t ep = new_endpoint();
    struct mica_msg m;
    uint64_t badge = 0, t0 = mica_time_us();
    CHECK_EQ(mica_recv(ep, &m, &badge, 20000), MICA_ETIMEOUT);
    uint64_t dt = mica_time_us() - t0;
    CHECK(dt >= 19000 && dt < 2000000);
    mica_handle_close(ep);
}

static void t_send_bounded_timeout(void)
{
    mica_handle_t ep = new_endpoint();
    struct mica_msg m;
    mica_msg_init(&m, 1);
    uint64_t t0 = mica_time_us();
    CHECK_EQ(mica_send(ep, &m, 10000), MICA_ETIMEOUT);
    CHECK(mica_time_us() - t0 >= 9000);
    mica_handle_close(ep);
}

static void t_pingpong_same_space(void)
{
    mica_handle_t ep = new_endpoint(), th = 0;
    CHECK_EQ(spawn_local(echo_server, ep, SERVER_PRIO, &th), MICA_OK);
    for (int i = 0; i < 100; i++)
        CHECK_EQ(echo_once(ep, 0), MICA_OK);
    close_and_settle(ep);
    mica_handle_close(th);
}

/* Whether this pass runs with the fastpath on. */
static int fast_pass;

static void t_pingpong_cross_space(void)
{
    mica_handle_t ep = new_endpoint(), task = 0, th = 0;
    CHECK_EQ(spawn_remote_with(echo_server, ep, MICA_R_RECV, 0, &task, &th), MICA_OK);
    struct mica_obj_counts before, after;
    settle(); /* the server now waits in recv */
    mica_debug_counts(&before);
    for (int i = 0; i < 200; i++)
        CHECK_EQ(echo_once(ep, 0), MICA_OK);
    mica_debug_counts(&after);
    /* With the fastpath on, every one of these calls and replies took it
     * (the server waits, nothing outranks it); with it off, none did. */
    uint64_t calls = after.fastpath_calls - before.fastpath_calls;
    uint64_t replies = after.fastpath_reply_recvs - before.fastpath_reply_recvs;
    CHECK_EQ(calls, fast_pass ? 200 : 0);
    CHECK_EQ(replies, fast_pass ? 200 : 0);
    kill_child(task, th);
    mica_handle_close(ep);
}

static void t_badges(void)
{
    mica_handle_t ep = new_endpoint(), b1 = 0, b2 = 0, b3 = 0, th = 0;
    CHECK_EQ(mica_handle_mint(ep, MICA_R_SEND | MICA_R_TRANSFER, 0x111, &b1), MICA_OK);
    CHECK_EQ(mica_handle_mint(ep, MICA_R_SEND, 0x222, &b2), MICA_OK);
    /* Every bit of a badge reaches the receiver, not only the low ones. */
    CHECK_EQ(mica_handle_mint(ep, MICA_R_SEND, 0xfedcba9876543210ull, &b3), MICA_OK);
    CHECK_EQ(spawn_local(echo_server, ep, SERVER_PRIO, &th), MICA_OK);
    CHECK_EQ(echo_once(b1, 0x111), MICA_OK);
    CHECK_EQ(echo_once(b2, 0x222), MICA_OK);
    CHECK_EQ(echo_once(b3, 0xfedcba9876543210ull), MICA_OK);
    CHECK_EQ(echo_once(ep, 0), MICA_OK);
    mica_handle_close(b1);
    mica_handle_close(b2);
    mica_handle_close(b3);
    close_and_settle(ep);
    mica_handle_close(th);
}

static void t_badge_set_once(void)
{
    mica_handle_t ep = new_endpoint(), b1 = 0, b2 = 0;
    CHECK_EQ(mica_handle_mint(ep, MICA_R_SEND | MICA_R_TRANSFER, 5, &b1), MICA_OK);
    CHECK_EQ(mica_handle_mint(b1, MICA_R_SEND, 6, &b2), MICA_EINVAL);
    CHECK_EQ(mica_handle_mint(b1, MICA_R_SEND, 5, &b2), MICA_OK);
    uint64_t badge = 0;
    CHECK_EQ(mica_handle_info(b2, NULL, NULL, &badge), MICA_OK);
    CHECK_EQ(badge, 5);
    mica_handle_close(b2);
    mica_handle_close(b1);
    mica_handle_close(ep);
}

static void t_rights_reduced_send(void)
{
    mica_handle_t ep = new_endpoint(), ro = 0;
    CHECK_EQ(mica_handle_mint(ep, MICA_R_RECV, 0, &ro), MICA_OK);
    struct mica_msg m;
    mica_msg_init(&m, 1);
    CHECK_EQ(mica_call(ro, &m, POLL), MICA_ERIGHTS);
    CHECK_EQ(mica_send(ro, &m, POLL), MICA_ERIGHTS);
    uint64_t badge;
    mica_handle_t so = 0;
    CHECK_EQ(mica_handle_mint(ep, MICA_R_SEND, 0, &so), MICA_OK);
    CHECK_EQ(mica_recv(so, &m, &badge, POLL), MICA_ERIGHTS);
    mica_handle_close(ro);
    mica_handle_close(so);
    mica_handle_close(ep);
}

static void t_mint_no_upgrade(void)
{
    mica_handle_t ep = new_endpoint(), s = 0, x = 0;
    CHECK_EQ(mica_handle_mint(ep, MICA_R_SEND | MICA_R_TRANSFER, 0, &s), MICA_OK);
    CHECK_EQ(mica_handle_mint(s, MICA_R_SEND | MICA_R_RECV, 0, &x), MICA_EUPGRADE);
    CHECK_EQ(mica_handle_mint(s, 0x1000, 0, &x), MICA_EINVAL);
    mica_handle_t nt = 0;
    CHECK_EQ(mica_handle_mint(ep, MICA_R_SEND, 0, &nt), MICA_OK);
    CHECK_EQ(mica_handle_mint(nt, MICA_R_SEND, 0, &x), MICA_ERIGHTS);
    mica_handle_close(nt);
    mica_handle_close(s);
    mica_handle_close(ep);
}

static void t_invalid_handles(void)
{
    struct mica_msg m;
    mica_msg_init(&m, 1);
    CHECK_EQ(mica_call(0, &m, POLL), MICA_EBADH);
    CHECK_EQ(mica_call(127, &m, POLL), MICA_EBADH);
    CHECK_EQ(mica_call(128, &m, POLL), MICA_EBADH);
    CHECK_EQ(mica_call(0xffffffffu, &m, POLL), MICA_EBADH);
    uint64_t unused = 0;
    CHECK_EQ(mica_syscall1_t(SYS_RECV, 1ull << 40, POLL, &unused), MICA_EBADH);
    CHECK_EQ(mica_handle_close(0), MICA_EBADH);
    CHECK_EQ(mica_handle_info(99, NULL, NULL, NULL), MICA_EBADH);
}

static void t_wrong_type(void)
{
    mica_handle_t n = 0;
    CHECK_EQ(mica_notification_create(&n), MICA_OK);
    struct mica_msg m;
    mica_msg_init(&m, 1);
    CHECK_EQ(mica_call(n, &m, POLL), MICA_ETYPE);
    mica_handle_t ep = new_endpoint();
    CHECK_EQ(mica_notify_signal(ep, 1), MICA_ETYPE);
    CHECK_EQ(mica_task_kill(ep), MICA_ETYPE);
    mica_handle_close(ep);
    mica_handle_close(n);
}

static void t_closed_handle(void)
{
    mica_handle_t ep = new_endpoint();
    CHECK_EQ(mica_handle_close(ep), MICA_OK);
    struct mica_msg m;
    mica_msg_init(&m, 1);
    CHECK_EQ(mica_call(ep, &m, POLL), MICA_EBADH);
    CHECK_EQ(mica_handle_close(ep), MICA_EBADH);
}

static void t_long_message(void)
{
    mica_handle_t ep = new_endpoint(), th = 0;
    CHECK_EQ(spawn_local(echo_server, ep, SERVER_PRIO, &th), MICA_OK);
    uint64_t words[MICA_MSG_MAX_WORDS];
    for (int i = 0; i < MICA_MSG_MAX_WORDS; i++)
        words[i] = 1000u + (uint64_t)i;
    struct mica_msg m;
    mica_msg_init(&m, LABEL_ECHO);
    CHECK_EQ(mica_msg_set_long(&m, words, MICA_MSG_MAX_WORDS), MICA_OK);
    CHECK_EQ(mica_call(ep, &m, INF), MICA_OK);
    CHECK_EQ(mica_msg_words(&m), MICA_MSG_MAX_WORDS);
    int bad = 0;
    for (int i = 0; i < MICA_MSG_MAX_WORDS; i++)
        bad += mica_ipcbuf->words[i] != 1001u + (uint64_t)i;
    CHECK_EQ(bad, 0);
    close_and_settle(ep);
    mica_handle_close(th);
}

static void t_message_too_long(void)
{
    mica_handle_t ep = new_endpoint();
    struct mica_msg m;
    mica_msg_init(&m, 1);
    m.info = MICA_INFO(1, MICA_MSG_MAX_WORDS + 1, 0);
    CHECK_EQ(mica_send(ep, &m, POLL), MICA_ETOOLONG);
    m.info = MICA_INFO(1, 0, MICA_MSG_MAX_HANDLES + 1);
    CHECK_EQ(mica_send(ep, &m, POLL), MICA_ETOOLONG);
    m.info = MICA_INFO(1, 255, 7);
    CHECK_EQ(mica_call(ep, &m, POLL), MICA_ETOOLONG);
    mica_handle_close(ep);
}

/* A thread with no IPC buffer sends a long message: MICA_EFAULT. */
static void no_buffer_sender(uint64_t ep, struct mica_ipc_buffer *buf)
{
    (void)buf;
    struct mica_msg m;
    mica_msg_init(&m, 1);
    m.info = MICA_INFO(1, 4, 0);
    shared_status = mica_send((mica_handle_t)ep, &m, POLL);
}

static void t_long_message_needs_buffer(void)
{
    mica_handle_t ep = new_endpoint(), th = 0;
    char *stack = page_alloc(STACK_PAGES);
    shared_status = 1;
    CHECK_EQ(mica_thread_spawn(bootinfo->self_task, no_buffer_sender, ep,
                               stack + STACK_PAGES * MICA_PAGE_SIZE, SERVER_PRIO, NULL, &th),
             MICA_OK);
    settle();
    CHECK_EQ(shared_status, MICA_EFAULT);
    mica_handle_close(th);
    mica_handle_close(ep);
}

/* Receive one message with a handle, use the handle to call back. */
static void handle_receiver(uint64_t ep, struct mica_ipc_buffer *buf)
{
    struct mica_msg m;
    uint64_t badge;
    if (mica_recv((mica_handle_t)ep, &m, &badge, INF) != MICA_OK)
        return;
    mica_handle_t got = mica_buf_recv_handle(buf, &m, 0);
    uint32_t rights = 0;
    mica_handle_info(got, NULL, &rights, NULL);
    shared_word = rights;
    struct mica_msg c;
    mica_msg_init(&c, LABEL_ECHO);
    shared_status = echo_once(got, 0);
    mica_handle_close(got);
}

static void t_handle_passing(void)
{
    /* The child gets a send handle to `target` in a message and calls
     * through it; our receiver on `target` sees the call arrive. */
    mica_handle_t ep = new_endpoint(), target = new_endpoint(), task = 0, th = 0, rcv = 0;
    CHECK_EQ(spawn_local(record_recv, target, SERVER_PRIO, &rcv), MICA_OK);
    settle();
    CHECK_EQ(shared_status, 1);
    CHECK_EQ(spawn_remote_with(handle_forwarder, ep, MICA_R_RECV, 0, &task, &th), MICA_OK);
    struct mica_msg m;
    mica_msg_init(&m, 3);
    CHECK_EQ(mica_msg_add_handle(&m, target, MICA_R_SEND), MICA_OK);
    CHECK_EQ(mica_send(ep, &m, INF), MICA_OK);
    settle();
    CHECK_EQ(shared_status, MICA_OK);
    kill_child(task, th);
    mica_handle_close(rcv);
    mica_handle_close(target);
    mica_handle_close(ep);
}

static void t_handle_passing_rights(void)
{
    mica_handle_t ep = new_endpoint(), th = 0, nt = 0;
    CHECK_EQ(spawn_local(handle_receiver, ep, SERVER_PRIO, &th), MICA_OK);
    CHECK_EQ(mica_handle_mint(ep, MICA_R_SEND, 0, &nt), MICA_OK);
    struct mica_msg m;
    mica_msg_init(&m, 3);
    CHECK_EQ(mica_msg_add_handle(&m, nt, MICA_R_SEND), MICA_OK);
    CHECK_EQ(mica_send(ep, &m, INF), MICA_ERIGHTS); /* no TRANSFER right */
    mica_msg_init(&m, 3);
    mica_handle_t t2 = 0;
    CHECK_EQ(mica_handle_mint(ep, MICA_R_SEND | MICA_R_TRANSFER, 0, &t2), MICA_OK);
    CHECK_EQ(mica_msg_add_handle(&m, t2, MICA_R_SEND | MICA_R_RECV), MICA_OK);
    CHECK_EQ(mica_send(ep, &m, INF), MICA_ERIGHTS); /* more than it holds */
    mica_handle_close(t2);
    mica_handle_close(nt);
    close_and_settle(ep);
    mica_handle_close(th);
}

static void t_handle_passing_local(void)
{
    mica_handle_t ep = new_endpoint(), target = new_endpoint(), th = 0, srv = 0;
    CHECK_EQ(spawn_local(echo_server, target, SERVER_PRIO, &srv), MICA_OK);
    CHECK_EQ(spawn_local(handle_receiver, ep, SERVER_PRIO, &th), MICA_OK);
    shared_word = 0;
    shared_status = 1;
    struct mica_msg m;
    mica_msg_init(&m, 3);
    CHECK_EQ(mica_msg_add_handle(&m, target, MICA_R_SEND), MICA_OK);
    CHECK_EQ(mica_send(ep, &m, INF), MICA_OK);
    settle();
    CHECK_EQ(shared_word, MICA_R_SEND); /* rights shrank to what we gave */
    CHECK_EQ(shared_status, MICA_OK);   /* and the handle worked */
    close_and_settle(target);
    mica_handle_close(srv);
    mica_handle_close(th);
    mica_handle_close(ep);
}

static void t_many_clients_one_server(void)
{
    mica_handle_t ep = new_endpoint(), srv = 0, c[4];
    CHECK_EQ(spawn_local(echo_server, ep, SERVER_PRIO, &srv), MICA_OK);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(spawn_local(counting_client, ep, SERVER_PRIO - 1, &c[i]), MICA_OK);
    mica_sleep_us(200000);
    /* All 200 calls done: the server is idle; one more call works. */
    CHECK_EQ(echo_once(ep, 0), MICA_OK);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(mica_thread_set_priority(c[i], 1), MICA_EDEAD); /* they finished and exited */
        mica_handle_close(c[i]);
    }
    close_and_settle(ep);
    mica_handle_close(srv);
}

static void t_send_to_waiting_receiver(void)
{
    mica_handle_t ep = new_endpoint(), th = 0;
    CHECK_EQ(spawn_local(record_recv, ep, SERVER_PRIO, &th), MICA_OK);
    settle();
    CHECK_EQ(shared_status, 1); /* blocked in recv */
    struct mica_msg m;
    mica_msg_init(&m, 2);
    CHECK_EQ(mica_send(ep, &m, POLL), MICA_OK);
    settle();
    CHECK_EQ(shared_status, MICA_OK);
    mica_handle_close(th);
    mica_handle_close(ep);
}

static void t_senders_fifo(void)
{
    mica_handle_t ep = new_endpoint(), th[3];
    for (int i = 0; i < 3; i++) {
        /* Each sender blocks in turn; its index travels in mr[0]. */
        CHECK_EQ(spawn_local(indexed_sender, ep | ((uint64_t)i << 32), SERVER_PRIO, &th[i]), MICA_OK);
        settle();
    }
    for (int i = 0; i < 3; i++) {
        struct mica_msg m;
        uint64_t badge;
        mica_msg_init(&m, 0);
        CHECK_EQ(mica_recv(ep, &m, &badge, POLL), MICA_OK);
        CHECK_EQ(m.mr[0], i);
    }
    struct mica_msg m;
    uint64_t badge;
    CHECK_EQ(mica_recv(ep, &m, &badge, POLL), MICA_ETIMEOUT);
    for (int i = 0; i < 3; i++)
        mica_handle_close(th[i]);
    mica_handle_close(ep);
}

static void t_reply_without_caller(void)
{
    struct mica_msg m;
    mica_msg_init(&m, 1);
    CHECK_EQ(mica_reply(&m), MICA_ENOREPLY);
}

static void t_server_dies_during_call(void)
{
    mica_handle_t ep = new_endpoint(), task = 0, th = 0;
    CHECK_EQ(spawn_remote_with(silent_server, ep, MICA_R_RECV, 0, &task, &th), MICA_OK);
    mica_handle_t client = 0;
    shared_status = 1;
    CHECK_EQ(spawn_local(record_call, ep, SERVER_PRIO + 1, &client), MICA_OK);
    settle();
    CHECK_EQ(shared_status, 1); /* waiting for the reply */
    kill_child(task, th);
    settle();
    CHECK_EQ(shared_status, MICA_EDEAD);
    mica_handle_close(client);
    mica_handle_close(ep);
}

static void t_endpoint_dies_while_sending(void)
{
    mica_handle_t ep = new_endpoint(), client = 0;
    CHECK_EQ(spawn_local(record_call, ep, SERVER_PRIO, &client), MICA_OK);
    settle();
    CHECK_EQ(shared_status, 1);
    mica_handle_close(ep); /* the last handle: the endpoint dies */
    settle();
    CHECK_EQ(shared_status, MICA_EDEAD);
    mica_handle_close(client);
}

static void t_endpoint_dies_while_receiving(void)
{
    mica_handle_t ep = new_endpoint(), th = 0;
    CHECK_EQ(spawn_local(record_recv, ep, SERVER_PRIO, &th), MICA_OK);
    settle();
    CHECK_EQ(shared_status, 1);
    mica_handle_close(ep);
    settle();
    CHECK_EQ(shared_status, MICA_EDEAD);
    mica_handle_close(th);
}

static void t_caller_dies_before_reply(void)
{
    mica_handle_t ep = new_endpoint(), task = 0, th = 0;
    CHECK_EQ(spawn_remote_with(plain_call, ep, MICA_R_SEND, 0, &task, &th), MICA_OK);
    struct mica_msg m;
    uint64_t badge;
    CHECK_EQ(mica_recv(ep, &m, &badge, 1000000), MICA_OK);
    kill_child(task, th);
    mica_msg_init(&m, 1);
    CHECK_EQ(mica_reply(&m), MICA_EDEAD);
    CHECK_EQ(mica_reply(&m), MICA_ENOREPLY);
    mica_handle_close(ep);
}

static void t_thread_abort(void)
{
    mica_handle_t ep = new_endpoint(), th = 0;
    CHECK_EQ(spawn_local(record_recv, ep, SERVER_PRIO, &th), MICA_OK);
    settle();
    CHECK_EQ(shared_status, 1);
    CHECK_EQ(mica_thread_abort(th), MICA_OK);
    settle();
    CHECK_EQ(shared_status, MICA_EABORTED);
    mica_handle_close(th);
    mica_handle_close(ep);
}

static void t_notification_signal_wait(void)
{
    mica_handle_t n = 0;
    CHECK_EQ(mica_notification_create(&n), MICA_OK);
    uint64_t bits = 0;
    CHECK_EQ(mica_notify_wait(n, &bits, POLL), MICA_ETIMEOUT);
    CHECK_EQ(mica_notify_signal(n, 0x5), MICA_OK);
    CHECK_EQ(mica_notify_signal(n, 0x12), MICA_OK);
    CHECK_EQ(mica_notify_wait(n, &bits, POLL), MICA_OK);
    CHECK_EQ(bits, 0x17);
    CHECK_EQ(mica_notify_wait(n, &bits, POLL), MICA_ETIMEOUT);
    mica_handle_close(n);
}

static void t_notification_wakes_waiter(void)
{
    mica_handle_t n = 0, th = 0;
    CHECK_EQ(mica_notification_create(&n), MICA_OK);
    shared_word = 0;
    shared_status = 1;
    CHECK_EQ(spawn_local(notify_waiter, n, SERVER_PRIO, &th), MICA_OK);
    settle();
    CHECK_EQ(shared_status, 1);
    CHECK_EQ(mica_notify_signal(n, 0x80), MICA_OK);
    settle();
    CHECK_EQ(shared_status, MICA_OK);
    CHECK_EQ(shared_word, 0x80);
    mica_handle_close(th);
    mica_handle_close(n);
}

static void t_notification_timeout_and_rights(void)
{
    mica_handle_t n = 0, w = 0, s = 0;
    CHECK_EQ(mica_notification_create(&n), MICA_OK);
    uint64_t bits = 0, t0 = mica_time_us();
    CHECK_EQ(mica_notify_wait(n, &bits, 5000), MICA_ETIMEOUT);
    CHECK(mica_time_us() - t0 >= 4000);
    CHECK_EQ(mica_handle_mint(n, MICA_R_WAIT, 0, &w), MICA_OK);
    CHECK_EQ(mica_handle_mint(n, MICA_R_SIGNAL, 0, &s), MICA_OK);
    CHECK_EQ(mica_notify_signal(w, 1), MICA_ERIGHTS);
    CHECK_EQ(mica_notify_wait(s, &bits, POLL), MICA_ERIGHTS);
    mica_handle_close(w);
    mica_handle_close(s);
    mica_handle_close(n);
}

static void t_notification_dies(void)
{
    mica_handle_t n = 0, th = 0;
    CHECK_EQ(mica_notification_create(&n), MICA_OK);
    shared_status = 1;
    CHECK_EQ(spawn_local(notify_waiter, n, SERVER_PRIO, &th), MICA_OK);
    settle();
    mica_handle_close(n);
    settle();
    CHECK_EQ(shared_status, MICA_EDEAD);
    mica_handle_close(th);
}

static void t_priority_order(void)
{
    /* Threads made runnable together run highest priority first. */
    mica_handle_t a = 0, b = 0, c = 0;
    order_len = 0;
    CHECK_EQ(spawn_local(log_order, 10, 10, &a), MICA_OK);
    CHECK_EQ(spawn_local(log_order, 30, 30, &b), MICA_OK);
    CHECK_EQ(spawn_local(log_order, 20, 20, &c), MICA_OK);
    settle();
    CHECK_EQ(order_len, 3);
    CHECK_EQ(order_log[0], 30);
    CHECK_EQ(order_log[1], 20);
    CHECK_EQ(order_log[2], 10);
    mica_handle_close(a);
    mica_handle_close(b);
    mica_handle_close(c);
}

static void t_higher_priority_receiver_runs_first(void)
{
    mica_handle_t ep = new_endpoint(), th = 0;
    mica_handle_t me = bootinfo->self_thread;
    CHECK_EQ(mica_thread_set_priority(me, 50), MICA_OK);
    shared_status = 1;
    CHECK_EQ(spawn_local(record_recv, ep, 50, &th), MICA_OK);
    settle();
    CHECK_EQ(mica_thread_set_priority(th, 45), MICA_OK);
    struct mica_msg m;
    mica_msg_init(&m, 1);
    CHECK_EQ(mica_send(ep, &m, POLL), MICA_OK);
    /* Lower-priority receiver has not run yet: we are still ahead. */
    CHECK_EQ(shared_status, 1);
    settle();
    CHECK_EQ(shared_status, MICA_OK);
    CHECK_EQ(mica_thread_set_priority(me, MICA_PRIO_MAX), MICA_EUPGRADE);
    mica_handle_close(th);
    mica_handle_close(ep);
}

static void t_preemption(void)
{
    /* A busy thread never yields; we (higher priority, sleeping) still
     * wake on time and stop it. */
    mica_handle_t th = 0;
    shared_word = 0;
    spin_counts[0] = 0;
    CHECK_EQ(spawn_local(busy_spinner, 0, 5, &th), MICA_OK);
    uint64_t t0 = mica_time_us();
    mica_sleep_us(20000);
    uint64_t dt = mica_time_us() - t0;
    CHECK(dt >= 19000 && dt < 200000);
    CHECK(spin_counts[0] > 0);
    shared_word = 1;
    settle();
    mica_handle_close(th);
}

static void t_round_robin(void)
{
    mica_handle_t a = 0, b = 0;
    shared_word = 0;
    spin_counts[0] = spin_counts[1] = 0;
    CHECK_EQ(spawn_local(busy_spinner, 0, 5, &a), MICA_OK);
    CHECK_EQ(spawn_local(busy_spinner, 1, 5, &b), MICA_OK);
    mica_sleep_us(60000);
    /* Equal priority, neither yields: the time slice shares the CPU. */
    CHECK(spin_counts[0] > 0 && spin_counts[1] > 0);
    shared_word = 1;
    settle();
    mica_handle_close(a);
    mica_handle_close(b);
}

static void t_yield(void)
{
    mica_handle_t a = 0, b = 0;
    shared_word = 0;
    spin_counts[0] = spin_counts[1] = 0;
    CHECK_EQ(spawn_local(yield_spinner, 0, 6, &a), MICA_OK);
    CHECK_EQ(spawn_local(yield_spinner, 1, 6, &b), MICA_OK);
    mica_sleep_us(5000);
    uint64_t x = spin_counts[0], y = spin_counts[1];
    CHECK(x > 10 && y > 10);
    CHECK(x > y ? x - y <= 2 : y - x <= 2); /* strict alternation */
    shared_word = 1;
    settle();
    mica_handle_close(a);
    mica_handle_close(b);
}

static void t_sleep(void)
{
    uint64_t t0 = mica_time_us();
    CHECK_EQ(mica_sleep_us(15000), MICA_OK);
    CHECK(mica_time_us() - t0 >= 14000);
    CHECK_EQ(mica_sleep_us(0), MICA_OK);
}

static void t_priority_upgrade_refused(void)
{
    mica_handle_t th = 0;
    char *stack = page_alloc(1);
    CHECK_EQ(mica_thread_spawn(bootinfo->self_task, log_order, 0, stack + MICA_PAGE_SIZE, MICA_PRIO_MAX + 1,
                               NULL, &th),
             MICA_EINVAL);
    CHECK_EQ(mica_thread_set_priority(bootinfo->self_thread, MICA_PRIO_MAX + 5), MICA_EINVAL);
}

static void t_map_hostile(void)
{
    mica_handle_t task = 0;
    CHECK_EQ(mica_task_create(&task), MICA_OK);
    char *page = page_alloc(1);
    uint64_t src = (uint64_t)(uintptr_t)page;
    uint64_t kernel = 0xffff800000000000ull, noncanon = bootinfo->user_top;
    CHECK_EQ(mica_map(task, src, kernel, 1, MICA_MAP_READ), MICA_EKERNEL);
    CHECK_EQ(mica_map(task, src, 0xffffffff80100000ull, 1, MICA_MAP_READ), MICA_EKERNEL);
    CHECK_EQ(mica_map(task, src, noncanon, 1, MICA_MAP_READ), MICA_ENONCANON);
    CHECK_EQ(mica_map(task, src, 0x123000, 1, 0), MICA_EINVAL);    /* no rights */
    CHECK_EQ(mica_map(task, src, 0x123000, 1, 0x10), MICA_EINVAL); /* unknown right */
    CHECK_EQ(mica_map(task, src, bootinfo->user_top - MICA_PAGE_SIZE, 2, MICA_MAP_READ), MICA_EKERNEL);
    CHECK_EQ(mica_map(task, src + 8, 0x200000, 1, MICA_MAP_READ), MICA_EINVAL);
    CHECK_EQ(mica_map(task, 0x7fff0000, 0x200000, 1, MICA_MAP_READ), MICA_ENOTOWNER);
    CHECK_EQ(mica_map(task, kernel, 0x200000, 1, MICA_MAP_READ), MICA_EKERNEL);
    uint64_t text = (uint64_t)(uintptr_t)t_map_hostile & ~0xfffull;
    CHECK_EQ(mica_map(task, text, 0x200000, 1, MICA_MAP_READ | MICA_MAP_WRITE), MICA_EUPGRADE);
    /* The IPC buffer is read-write and may not grant execution (init's heap
     * may: init loads programs; docs/pager.md). */
    CHECK_EQ(mica_map(task, bootinfo->ipc_buffer, 0x200000, 1, MICA_MAP_READ | MICA_MAP_EXEC), MICA_EUPGRADE);
    CHECK_EQ(mica_map(task, src, 0x200000, 1, MICA_MAP_READ | MICA_MAP_WRITE), MICA_OK);
    CHECK_EQ(mica_map(task, src, 0x200000, 1, MICA_MAP_READ), MICA_EEXISTS);
    CHECK_EQ(mica_unmap(task, 0x200000, 1), MICA_OK);
    CHECK_EQ(mica_map(task, src, 0x200000, 1, MICA_MAP_READ), MICA_OK);
    /* Protect: rights only go down; pages must be mapped. */
    CHECK_EQ(mica_protect(task, 0x200000, 1, MICA_MAP_READ | MICA_MAP_WRITE), MICA_EUPGRADE);
    CHECK_EQ(mica_protect(task, 0x300000, 1, MICA_MAP_READ), MICA_EINVAL);
    CHECK_EQ(mica_protect(task, 0x200000, 1, 0), MICA_EINVAL);
    CHECK_EQ(mica_protect(task, 0x200000, 1, MICA_MAP_READ), MICA_OK);
    mica_handle_t ro = 0;
    CHECK_EQ(mica_handle_mint(task, MICA_R_CONTROL, 0, &ro), MICA_OK);
    CHECK_EQ(mica_protect(ro, 0x200000, 1, MICA_MAP_READ), MICA_ERIGHTS);
    CHECK_EQ(mica_map(ro, src, 0x300000, 1, MICA_MAP_READ), MICA_ERIGHTS);
    mica_handle_close(ro);
    mica_task_kill(task);
    mica_handle_close(task);
}

static void t_bad_user_pointers(void)
{
    CHECK_EQ(mica_debug_write((const char *)0xffffffff80100000ull, 8), MICA_EFAULT);
    CHECK_EQ(mica_debug_write((const char *)0x10, 8), MICA_EFAULT);
    CHECK_EQ(mica_debug_write((const char *)0x8000000000000000ull, 8), MICA_EFAULT);
    CHECK_EQ(mica_debug_write("x", 1ull << 40), MICA_EINVAL);
    CHECK_EQ(mica_debug_counts((struct mica_obj_counts *)0xffff800000001000ull), MICA_EFAULT);
    CHECK_EQ(mica_debug_counts((struct mica_obj_counts *)(uintptr_t)t_bad_user_pointers), MICA_EFAULT);
}

static void t_thread_create_hostile(void)
{
    mica_handle_t th = 0;
    uint64_t stack = (uint64_t)(uintptr_t)page_alloc(1) + MICA_PAGE_SIZE;
    CHECK_EQ(mica_thread_create(bootinfo->self_task, 0xffffffff80100000ull, stack, 0, 1, 0, &th),
             MICA_EKERNEL);
    CHECK_EQ(mica_thread_create(bootinfo->self_task, 0x8000000000000000ull, stack, 0, 1, 0, &th),
             MICA_ENONCANON);
    CHECK_EQ(mica_thread_create(bootinfo->self_task, 0x400000, 0xffff800000000000ull, 0, 1, 0, &th),
             MICA_EKERNEL);
    CHECK_EQ(mica_thread_create(bootinfo->self_task, 0x400000, stack, 0, 1, 0x400123, &th), MICA_EINVAL);
    mica_handle_t ep = new_endpoint();
    CHECK_EQ(mica_thread_create(ep, 0x400000, stack, 0, 1, 0, &th), MICA_ETYPE);
    mica_handle_close(ep);
}

static void t_protect_stops_writes(void)
{
    /* A page the child may write, made read-only before it runs: its
     * write faults (present, write) and the page keeps our value. */
    mica_handle_t task = 0, th = 0;
    CHECK_EQ(mica_task_create(&task), MICA_OK);
    uint64_t *page = page_alloc(1);
    page[0] = 42;
    CHECK_EQ(mica_map(task, (uint64_t)(uintptr_t)page, 0x8000000, 1, MICA_MAP_READ | MICA_MAP_WRITE),
             MICA_OK);
    CHECK_EQ(mica_protect(task, 0x8000000, 1, MICA_MAP_READ), MICA_OK);
    CHECK_EQ(spawn_in_task(task, wild_writer, 0x8000000, SERVER_PRIO, &th), MICA_OK);
    settle();
    struct mica_task_status s = {0};
    CHECK_EQ(mica_task_status(task, &s), MICA_OK);
    CHECK_EQ(s.state, MICA_TASK_FAULTED);
    CHECK_EQ(s.addr, 0x8000000);
    CHECK_EQ(s.error & 0x7, 0x7); /* present, write, user */
    CHECK_EQ(page[0], 42);
    mica_handle_close(th);
    mica_handle_close(task);
}

/* Where the same-space TLB cases put their page in the child. */
#define TLB_VA 0x9000000ull

/* In a child: read the page (its translation is now cached), unmap it
 * through our own handle (arg) and read it again: with no CR3 load in
 * between, only the kernel's invlpg makes the second read fault. */
static void unmap_then_touch(uint64_t self, struct mica_ipc_buffer *buf)
{
    (void)buf;
    volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)TLB_VA;
    (void)p[0];
    if (mica_unmap((mica_handle_t)self, TLB_VA, 1) != MICA_OK)
        return;
    (void)p[0];
}

/* The same with a write after protecting the page read-only. */
static void protect_then_write(uint64_t self, struct mica_ipc_buffer *buf)
{
    (void)buf;
    volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)TLB_VA;
    p[1] = 7;
    if (mica_protect((mica_handle_t)self, TLB_VA, 1, MICA_MAP_READ) != MICA_OK)
        return;
    p[1] = 8;
}

/* Run fn in a fresh task holding a handle to itself (MICA_R_MAP) with one
 * writable page at TLB_VA; the task's end. */
static struct mica_task_status run_tlb_child(mica_thread_fn *fn)
{
    mica_handle_t task = 0, th = 0, self = 0;
    struct mica_task_status s = {0};
    volatile uint64_t *page = page_alloc(1);
    page[0] = 1; /* mapped here before it is passed on */
    CHECK_EQ(mica_task_create(&task), MICA_OK);
    CHECK_EQ(mica_map(task, (uint64_t)(uintptr_t)page, TLB_VA, 1, MICA_MAP_READ | MICA_MAP_WRITE), MICA_OK);
    CHECK_EQ(mica_task_give(task, task, MICA_R_MAP, 0, &self), MICA_OK);
    CHECK_EQ(spawn_in_task(task, fn, self, SERVER_PRIO, &th), MICA_OK);
    s = child_wait_end(task, 300000);
    mica_task_kill(task);
    mica_handle_close(th);
    mica_handle_close(task);
    return s;
}

static void t_unmap_same_space_faults(void)
{
    struct mica_task_status s = run_tlb_child(unmap_then_touch);
    CHECK_EQ(s.state, MICA_TASK_FAULTED);
    CHECK_EQ(s.vector, 14);
    CHECK_EQ(s.addr, TLB_VA);
    CHECK_EQ(s.error & 0x1, 0); /* not present */
}

static void t_protect_same_space_faults(void)
{
    struct mica_task_status s = run_tlb_child(protect_then_write);
    CHECK_EQ(s.state, MICA_TASK_FAULTED);
    CHECK_EQ(s.vector, 14);
    CHECK_EQ(s.addr, TLB_VA + 8);
    CHECK_EQ(s.error & 0x7, 0x7); /* present, write, user */
}

/* map_one, the kernel's single-page path, runs when the destination's
 * leaf table exists already: a neighbour in the same 2 MiB is mapped
 * first, so each probe below takes it (the general path's checks in
 * map_hostile never reach it). */
static void t_map_fast_path_no_upgrade(void)
{
    mica_handle_t task = 0;
    CHECK_EQ(mica_task_create(&task), MICA_OK);
    volatile uint64_t *rwp = page_alloc(1), *rop = page_alloc(1);
    rwp[0] = rop[0] = 1; /* mapped here before they are passed on */
    uint64_t rw = (uint64_t)(uintptr_t)rwp, ro = (uint64_t)(uintptr_t)rop;
    uint64_t text = (uint64_t)(uintptr_t)t_map_fast_path_no_upgrade & ~0xfffull;
    CHECK_EQ(mica_map(task, rw, 0x400000, 1, MICA_MAP_READ), MICA_OK); /* the leaf table now exists */
    CHECK_EQ(mica_map(task, text, 0x401000, 1, MICA_MAP_READ | MICA_MAP_WRITE), MICA_EUPGRADE);
    CHECK_EQ(mica_map(task, bootinfo->ipc_buffer, 0x402000, 1, MICA_MAP_READ | MICA_MAP_EXEC), MICA_EUPGRADE);
    CHECK_EQ(mica_map(task, 0x400000, 0x403000, 1, MICA_MAP_READ), MICA_OK); /* our 0x400000 is init's text */
    /* A page only readable here cannot be passed on writable either. */
    mica_handle_t me = bootinfo->self_task;
    CHECK_EQ(mica_protect(me, ro, 1, MICA_MAP_READ), MICA_OK);
    CHECK_EQ(mica_map(task, ro, 0x404000, 1, MICA_MAP_READ | MICA_MAP_WRITE), MICA_EUPGRADE);
    CHECK_EQ(mica_map(task, ro, 0x404000, 1, MICA_MAP_READ), MICA_OK);
    CHECK_EQ(mica_protect(me, ro, 1, MICA_MAP_READ | MICA_MAP_WRITE), MICA_EUPGRADE);
    mica_task_kill(task);
    mica_handle_close(task);
}

static void t_fault_contained(void)
{
    mica_handle_t ep = new_endpoint(), task = 0, th = 0;
    CHECK_EQ(spawn_remote(wild_writer, 0x7000000000ull, SERVER_PRIO, &task, &th), MICA_OK);
    settle();
    /* The child faulted and was stopped; its thread is dead, we go on. */
    CHECK_EQ(mica_thread_set_priority(th, 1), MICA_EDEAD);
    CHECK_EQ(mica_task_kill(task), MICA_EDEAD);
    mica_handle_close(th);
    mica_handle_close(task);
    mica_handle_close(ep);
}

static void t_task_kill_frees(void)
{
    struct mica_obj_counts before, after;
    CHECK_EQ(mica_debug_counts(&before), MICA_OK);
    mica_handle_t ep = new_endpoint(), task = 0, th = 0;
    CHECK_EQ(spawn_remote_with(echo_server, ep, MICA_R_RECV, 0, &task, &th), MICA_OK);
    CHECK_EQ(echo_once(ep, 0), MICA_OK);
    kill_child(task, th);
    mica_handle_close(ep);
    settle();
    CHECK_EQ(mica_debug_counts(&after), MICA_OK);
    for (int i = 0; i < MICA_TAG_COUNT; i++)
        CHECK_EQ(after.live[i], before.live[i]);
    CHECK_EQ(after.pool_pages_free, before.pool_pages_free);
}

static void t_pool_exhaustion_enomem(void)
{
    /* Map one page at addresses 1 GiB apart into a child: each needs new
     * page tables, charged to the child's kernel-memory quota, until that
     * is spent.  That is MICA_ENOMEM for the mapping; the pool is far from
     * dry (init still gets an endpoint), and killing the child gives every
     * page back. */
    struct mica_obj_counts before, mid, after;
    struct mica_kmem k = {0};
    mica_debug_counts(&before);
    mica_handle_t task = 0;
    CHECK_EQ(mica_task_create(&task), MICA_OK);
    char *page = page_alloc(1);
    int st = MICA_OK;
    uint64_t n = 0;
    while (st == MICA_OK && n < 200000) {
        st = mica_map(task, (uint64_t)(uintptr_t)page, (n + 1) << 30, 1, MICA_MAP_READ);
        n++;
    }
    CHECK_EQ(st, MICA_ENOMEM);
    CHECK_EQ(mica_kmem_info(task, &k), MICA_OK);
    CHECK_EQ(k.limit, MICA_KMEM_DEFAULT);
    CHECK(k.limit - k.used < bootinfo->paging_levels); /* not room for one more chain of tables */
    mica_debug_counts(&mid);
    CHECK(mid.pool_pages_free + k.used + 1 >= before.pool_pages_free); /* + 1: a slab page for its record */
    mica_handle_t ep = 0;
    CHECK_EQ(mica_endpoint_create(&ep), MICA_OK); /* the child's exhaustion is its own */
    if (ep)
        mica_handle_close(ep);
    CHECK_EQ(mica_task_kill(task), MICA_OK);
    mica_handle_close(task);
    settle();
    mica_debug_counts(&after);
    CHECK_EQ(after.pool_pages_free, before.pool_pages_free);
    CHECK_EQ(after.live[MICA_TAG_PAGE_TABLE], before.live[MICA_TAG_PAGE_TABLE]);
}

static void t_pool_exhaustion_is_an_error(void)
{
    /* Create endpoints until the kernel says no: an error, never a panic;
     * then all of them go away again. */
    static mica_handle_t hs[130];
    int n = 0, st = MICA_OK;
    while (n < 130 && (st = mica_endpoint_create(&hs[n])) == MICA_OK)
        n++;
    CHECK(n < 128); /* the table has 127 slots */
    CHECK(st == MICA_ENOHANDLES || st == MICA_ENOMEM);
    for (int i = 0; i < n; i++)
        CHECK_EQ(mica_handle_close(hs[i]), MICA_OK);
    mica_handle_t one = 0;
    CHECK_EQ(mica_endpoint_create(&one), MICA_OK); /* and the kernel goes on */
    mica_handle_close(one);
}

/* ---- the suite ----------------------------------------------------------- */

static const char *const ipc_passes[] = {"fastpath", "slowpath"};

/* Pass 0 runs with the IPC fastpath on, pass 1 with it off. */
static void ipc_pass(unsigned pass)
{
    fast_pass = pass == 0;
    mica_fastpath_set(fast_pass);
}

/* The fastpath is on again after the suite. */
static void ipc_after(void)
{
    mica_fastpath_set(1);
}

GUEST_SUITE(ipc, .passes = 2, .pass_names = ipc_passes, .before_pass = ipc_pass, .after = ipc_after,
            .prio = 50, .baseline = true);

GUEST_CASE(ipc, "null_syscall", t_null_syscall);
GUEST_CASE(ipc, "unknown_syscall", t_unknown_syscall);
GUEST_CASE(ipc, "endpoint_create_info", t_endpoint_create_info);
GUEST_CASE(ipc, "send_poll_no_receiver", t_send_poll_no_receiver);
GUEST_CASE(ipc, "recv_poll_no_sender", t_recv_poll_no_sender);
GUEST_CASE(ipc, "recv_bounded_timeout", t_recv_bounded_timeout);
GUEST_CASE(ipc, "send_bounded_timeout", t_send_bounded_timeout);
GUEST_CASE(ipc, "pingpong_same_space", t_pingpong_same_space);
GUEST_CASE(ipc, "pingpong_cross_space", t_pingpong_cross_space);
GUEST_CASE(ipc, "badges", t_badges);
GUEST_CASE(ipc, "badge_set_once", t_badge_set_once);
GUEST_CASE(ipc, "rights_reduced_send_recv", t_rights_reduced_send);
GUEST_CASE(ipc, "mint_no_upgrade", t_mint_no_upgrade);
GUEST_CASE(ipc, "invalid_handles", t_invalid_handles);
GUEST_CASE(ipc, "wrong_type", t_wrong_type);
GUEST_CASE(ipc, "closed_handle", t_closed_handle);
GUEST_CASE(ipc, "long_message_64_words", t_long_message);
GUEST_CASE(ipc, "message_too_long", t_message_too_long);
GUEST_CASE(ipc, "long_message_needs_buffer", t_long_message_needs_buffer);
GUEST_CASE(ipc, "handle_passing_local", t_handle_passing_local);
GUEST_CASE(ipc, "handle_passing_cross_space", t_handle_passing);
GUEST_CASE(ipc, "handle_passing_rights", t_handle_passing_rights);
GUEST_CASE(ipc, "many_clients_one_server", t_many_clients_one_server);
GUEST_CASE(ipc, "send_to_waiting_receiver", t_send_to_waiting_receiver);
GUEST_CASE(ipc, "senders_fifo", t_senders_fifo);
GUEST_CASE(ipc, "reply_without_caller", t_reply_without_caller);
GUEST_CASE(ipc, "server_dies_during_call", t_server_dies_during_call);
GUEST_CASE(ipc, "endpoint_dies_while_sending", t_endpoint_dies_while_sending);
GUEST_CASE(ipc, "endpoint_dies_while_receiving", t_endpoint_dies_while_receiving);
GUEST_CASE(ipc, "caller_dies_before_reply", t_caller_dies_before_reply);
GUEST_CASE(ipc, "thread_abort", t_thread_abort);
GUEST_CASE(ipc, "notification_signal_wait", t_notification_signal_wait);
GUEST_CASE(ipc, "notification_wakes_waiter", t_notification_wakes_waiter);
GUEST_CASE(ipc, "notification_timeout_and_rights", t_notification_timeout_and_rights);
GUEST_CASE(ipc, "notification_dies", t_notification_dies);
GUEST_CASE(ipc, "priority_order", t_priority_order);
GUEST_CASE(ipc, "higher_priority_receiver_runs_first", t_higher_priority_receiver_runs_first);
GUEST_CASE(ipc, "preemption", t_preemption);
GUEST_CASE(ipc, "round_robin", t_round_robin);
GUEST_CASE(ipc, "yield", t_yield);
GUEST_CASE(ipc, "sleep", t_sleep);
GUEST_CASE(ipc, "priority_upgrade_refused", t_priority_upgrade_refused);
GUEST_CASE(ipc, "map_hostile", t_map_hostile);
GUEST_CASE(ipc, "bad_user_pointers", t_bad_user_pointers);
GUEST_CASE(ipc, "thread_create_hostile", t_thread_create_hostile);
GUEST_CASE(ipc, "fault_contained", t_fault_contained);
GUEST_CASE(ipc, "protect_stops_writes", t_protect_stops_writes);
GUEST_CASE(ipc, "unmap_same_space_faults", t_unmap_same_space_faults);
GUEST_CASE(ipc, "protect_same_space_faults", t_protect_same_space_faults);
GUEST_CASE(ipc, "map_fast_path_no_upgrade", t_map_fast_path_no_upgrade);
GUEST_CASE(ipc, "task_kill_frees_everything", t_task_kill_frees);
GUEST_CASE(ipc, "handle_table_exhaustion", t_pool_exhaustion_is_an_error);
GUEST_CASE(ipc, "pool_exhaustion_enomem", t_pool_exhaustion_enomem);
