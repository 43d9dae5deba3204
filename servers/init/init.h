/* init's internal interfaces. */
#ifndef INIT_H
#define INIT_H

#include <mica/ipc.h>
#include <stdbool.h>

extern const struct mica_bootinfo *bootinfo;

/* The stack of a thread of init (spawn_local): 16 KiB of init's pages. */
#define STACK_PAGES 4

enum restart_policy { RESTART_NEVER, RESTART_ON_FAILURE, RESTART_ALWAYS };

/* A server init started from a module (servers.c). */
struct server {
    int used, refused, running, gave_up;
    const struct mica_bootinfo_module *mod;
    char name[24];
    int restart;    /* never, on-failure, always */
    unsigned limit; /* restarts allowed within window_us */
    uint64_t window_us, recent[8];
    unsigned nrecent;
    int prio;
    uint64_t quota, arg, pager_id;
    uint64_t kmem;    /* its kernel-memory quota, pages (kmem=) */
    const char *args; /* the words after `--` on its line, or NULL */
    int sha1_given;
    uint8_t sha1[20];
    mica_handle_t task, thread;
    unsigned starts, ends;
    struct mica_task_status last;
};

/* What a module is to init: its own image, the pager, or a server. */
enum module_role { MODULE_SERVER, MODULE_INIT, MODULE_PAGER };
/* Read mod's line (name and options, docs/init.md) into a fresh s; false,
 * after one [FAIL] line naming the module and the option, when the line is
 * malformed or an option does not apply to role. */
bool module_parse(struct server *s, const struct mica_bootinfo_module *mod, enum module_role role);
/* True when init can give s its kmem= quota and keep its reserve (a
 * restart may use the reserve); else false after a [FAIL] line. */
bool module_kmem_fits(const struct server *s);
/* Log init's kernel-memory use: what it gave, uses, has left. */
void module_kmem_report(void);
/* Hash s's module, log the digest, and compare it with its sha1= when
 * given; false (after a [FAIL] line) on a mismatch. */
bool module_check_integrity(const struct server *s);

/* Start every module after init and the pager, in grub.cfg order; the
 * number of modules refused or not started. */
int servers_start_all(void);
/* Serve the name service and restarts forever. */
__attribute__((noreturn)) void servers_serve(void);
/* A handle to the name service for init's own threads (or 0). */
mica_handle_t servers_ns_handle(void);
/* The server started from the module named `name`, or NULL. */
const struct server *servers_find(const char *name);

/* Load a module's ELF image into a new task (not started): 0 and the task
 * and entry point, or an error after a [FAIL] line. */
int load_program(const struct mica_bootinfo_module *mod, uint64_t kmem, mica_handle_t *task, uint64_t *entry);
/* Give a loaded task its IPC buffer (and, when stack_top is 0, a stack of
 * init's pages) and start its first thread. */
int run_program(mica_handle_t task, uint64_t entry, int prio, uint64_t arg, uint64_t stack_top,
                mica_handle_t *thread_out);

/* The module whose GRUB command line starts with the word `name`, or NULL. */
const struct mica_bootinfo_module *find_module(const char *name);
/* Start a module as a task at priority prio, giving it handle `give` (its
 * number there is the argument of its main); refused images are reported. */
int start_program(const struct mica_bootinfo_module *mod, uint64_t kmem, int prio, mica_handle_t give,
                  uint32_t rights, uint64_t badge, mica_handle_t *task_out, mica_handle_t *thread_out);

/* The pager, when a "pager" module was started: init's handles to it. */
extern mica_handle_t pager_admin; /* badge PAGER_BADGE_INIT */
extern mica_handle_t pager_self;  /* init's own client handle */
extern mica_handle_t pager_task;
extern mica_handle_t pager_mint; /* unbadged: clients' handles are minted from it */
extern uint64_t pager_self_id;
/* Register a task with the pager (quota in pages): its id and badge. */
int pager_add_client(mica_handle_t task, uint64_t quota_pages, uint64_t flags, uint64_t *id, uint64_t *badge);
/* Check the pager's module (line and sha1), start it and hand it all free
 * memory; false after a [FAIL] line saying why it could not. */
bool pager_start(void);

/* `pages` zeroed pages from the free-memory window (or, once the pager
 * runs, from init's heap region it serves), or NULL. */
void *page_alloc(uint64_t pages);
/* From now on page_alloc takes pages from a region of the pager's. */
void mem_use_pager(mica_handle_t pager);
/* Range i of the window minus what page_alloc already took. */
bool mem_window_rest(uint64_t i, uint64_t *va, uint64_t *bytes);
/* A thread of init running fn(arg, its own IPC buffer). */
int spawn_local(mica_thread_fn *fn, uint64_t arg, int prio, mica_handle_t *out);

/* The seam to the test image (test/guest/, docs/testing.md): the test
 * image defines init_test_hooks; the production init does not, so the
 * weak reference is NULL there and init has no test code. */
struct init_test_hooks {
    /* Run the suites that test= and bench= select, after every module
     * started; returns only when the command line selects none. */
    void (*run)(void);
    /* A module option only the test image knows (crash= for the crasher
     * fixture): 1 when it set s, 0 after a [FAIL] line on a bad value,
     * -1 when key[0..klen) is not its option. */
    int (*module_option)(struct server *s, const char *key, size_t klen, const char *v, size_t vlen);
};
extern const struct init_test_hooks init_test_hooks __attribute__((weak));
#endif
