/* init's internal interfaces. */
#ifndef INIT_H
#define INIT_H

#include <mica/ipc.h>
#include <stdbool.h>

extern const struct mica_bootinfo *bootinfo;

/* The in-guest IPC regression suite (TAP); returns the number of failures. */
int ipc_suite_run(void);
/* The benchmarks: one BENCH line per figure. */
void bench_run(void);



#define STACK_PAGES 4

/* `pages` zeroed pages from the free-memory window, or NULL. */
void *page_alloc(uint64_t pages);
/* A thread of init running fn(arg, its own IPC buffer). */
int spawn_local(mica_thread_fn *fn, uint64_t arg, int prio, mica_handle_t *out);
/* A new task running fn(arg, buffer) on init's code (shared read-only);
 * its task and thread handles are returned. */
int spawn_remote(mica_thread_fn *fn, uint64_t arg, int prio, mica_handle_t *task_out, mica_handle_t *thread_out);
/* The same, giving the child handle `give` (with rights and badge) and
 * passing its number there as the argument, at priority 40. */
int spawn_remote_with(mica_thread_fn *fn, mica_handle_t give, uint32_t rights, uint64_t badge,
                      mica_handle_t *task_out, mica_handle_t *thread_out);
int spawn_remote_ex(mica_thread_fn *fn, uint64_t arg, mica_handle_t give, uint32_t rights, uint64_t badge, int prio,
                    mica_handle_t *task_out, mica_handle_t *thread_out);
#endif
