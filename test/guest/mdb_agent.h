/* Agents for the mapping-database suite (mdb_agent.c): a thread of init's
 * code in a task of the suite's that performs, one message at a time,
 * the calls only that task can make (a task maps only its own pages). */
#ifndef INIT_MDB_AGENT_H
#define INIT_MDB_AGENT_H

#include <mica/ipc.h>

/* What init asks an agent (the label); h is a handle number in the
 * agent's task, `extra` rights or flags:
 *   MAP       mica_map(h, x, y, z pages, extra rights)
 *   UNMAP     mica_unmap_ex(h, x, y pages, extra flags) -> mappings removed
 *   PROTECT   mica_protect(h, x, y pages, extra rights)
 *   READ      the word at x                WRITE     y into the word at x
 *   VM_ALLOC  mica_vm_alloc(h, x bytes)    VM_FREE   mica_vm_free(h, x, y bytes)
 *   CLOSE     mica_handle_close(h) */
enum agent_op {
    AGENT_MAP = 1,
    AGENT_UNMAP,
    AGENT_PROTECT,
    AGENT_READ,
    AGENT_WRITE,
    AGENT_VM_ALLOC,
    AGENT_VM_FREE,
    AGENT_CLOSE,
};

struct agent {
    mica_handle_t task;   /* the task it runs in (init's handle; the caller's to close) */
    mica_handle_t ep;     /* init's handle to its endpoint */
    mica_handle_t thread; /* init's handle to its thread */
};

/* Start an agent in task (init's code mapped there, a fresh stack). */
int agent_start(struct agent *a, mica_handle_t task);
/* The same on a stack and IPC buffer of init's (STACK_PAGES pages, one
 * page) that the caller reuses for one agent at a time. */
int agent_start_on(struct agent *a, mica_handle_t task, char *stack, struct mica_ipc_buffer *buf);
/* Drop init's handles to the agent's endpoint and thread. */
void agent_release(struct agent *a);
/* Ask agent a for op; its status (MICA_EDEAD when its task stopped), and
 * its result in *out (if not NULL). */
int agent_call(const struct agent *a, uint32_t op, uint64_t h, uint64_t x, uint64_t y, uint64_t z,
               uint64_t *out, uint32_t extra);

/* The model-based test (mdb_model.c): `ops` random operations; failures. */
int mdb_model_run(uint64_t ops, uint64_t seed);

#endif
