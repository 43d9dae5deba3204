/* The ring-3 system-call fuzzer of init (sysfuzz.c).
 *
 * Selected by the kernel command line: test=sysfuzz, with the optional
 * words fuzzseed=N (default 1) and fuzzcalls=N (default 20000); and, read
 * by sysfuzz.c itself:
 *   fuzztrace=N      print every call from the N-th on, with its status;
 *   fuzzavoid=known  keep clear of the kernel bugs found so far, to look
 *                    for others (the pager-path panics: an endpoint that is
 *                    a pager is never lent to a child, init answers a fault
 *                    it holds before it receives again; the leak of a task
 *                    destroyed by its last handle: workers create no tasks);
 *   fuzzrepro=N      run only the N-th minimized reproducer (1, 2, 3).
 *
 * sysfuzz_run issues `calls` pseudo-random system calls, drawn from `seed`,
 * with random, boundary and hostile arguments, from init's main thread, and
 * keeps a pool of endpoints, notifications, child tasks and their threads
 * that it creates and destroys as it goes.  It writes TAP on the log: the
 * seed, the plan "1..N", one line per phase and per 1000 calls, and last
 * "# sysfuzz: seed=S calls=N passed=P failed=F" (P and F count checks).
 * It returns the number of failed checks.
 *
 * What it checks: every status is MICA_OK or a MICA_E* of abi.h; statuses
 * that its model of the handle table and of its own address space makes
 * certain (a handle it never had is EBADH, a derivation beyond the rights
 * held is EUPGRADE, ...); that the handle table matches the model; and at
 * the end, with everything it made closed or killed, that the kernel's live
 * object counts are those it found before the run.  A kernel panic or hang
 * ends the run without the final line, which the test harness sees.
 *
 * Side effects on init: the calling thread leaves at a priority 10 below
 * the one it came with (a watchdog thread needs one above it while the
 * run lasts), and about 7 MiB of init's free-memory window are taken once
 * (page_alloc has no free).  The IPC fastpath is left on. */
#ifndef SYSFUZZ_H
#define SYSFUZZ_H

#include <stdint.h>

int sysfuzz_run(uint64_t seed, uint64_t calls);

#endif
