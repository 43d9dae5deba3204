/* Kernel-wide state set once at boot. */
#ifndef MICA_KERNEL_H
#define MICA_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#define MICA_VERSION "0.1"

/* True when the command line selects tests: panics then end the emulator
 * with a failure code instead of halting. */
extern bool kernel_test_mode;

/* The kernel command line from the boot loader ("" when none). */
extern const char *kernel_cmdline;

/* Physical address of the multiboot2 information. */
extern uint64_t boot_info_phys;

/* Stop points chosen with break=WHERE[,WHERE] on the command line: the
 * kernel executes the Bochs magic breakpoint there (a no-op elsewhere). */
enum break_point { BREAK_INIT = 1, BREAK_PAGER_FAULT = 2, BREAK_USER_FAULT = 4 };
extern unsigned kernel_breaks;

/* The time stamp counter when kmain began (boot_to_init benchmark). */
extern uint64_t kernel_entry_tsc;

struct mb2_info;
extern struct mb2_info boot_info;

#endif
