/* The contract between the generic kernel and an architecture: every
 * function the generic core calls on the hardware is declared here, and
 * only arch/<name>/ implements them.  The generic core (kernel/, mm/,
 * boot/, include/mica/) includes no arch/ header but this one, which takes
 * the architecture's constants, object parts and inline functions from
 * exactly one: arch/<name>/include/arch/arch.h. */
#ifndef MICA_ARCH_H
#define MICA_ARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/arch.h"

/* arch/arch.h defines, besides PAGE_SIZE and the object parts, the fault
 * numbers (user-visible in struct mica_task_status.vector) of the ends the
 * generic core decides itself: ARCH_FAULT_PAGE for a page fault no pager
 * resolved, ARCH_FAULT_PROTECTION for an act it refuses as one. */

/* The boot sequence, in kmain's order (arch/<name>/setup.c). */
/* A cycle counter (the TSC), for timing the boot. */
uint64_t arch_timestamp(void);
/* Descriptor tables, exception vectors and the CPU's features; `levels` of
 * paging are what the boot stub chose.  Before anything can fault usefully. */
void arch_cpu_init(unsigned levels);
/* The CPU's vendor string, for the first log line. */
const char *arch_cpu_vendor(void);
/* Log the paging mode; forced_4 when the command line asked for 4 levels. */
void arch_log_paging(bool forced_4);
/* The root of the page tables the boot stub built (in use until
 * arch_paging_init). */
uint64_t arch_boot_root(void);
struct pm_set;
/* Build the kernel's own page tables over the RAM in `ram` (tables from
 * `alloc`) and switch to them. */
void arch_paging_init(const struct pm_set *ram, uint64_t (*alloc)(void));
/* Check that the direct map sends the first and last byte of every range
 * of `ram` to itself, and log its size and page sizes; false after a
 * [FAIL] line when it does not. */
bool arch_direct_map_check(const struct pm_set *ram);
/* How many levels of page tables the CPU walks (4 or 5). */
unsigned arch_paging_levels(void);
/* The root of the kernel's page tables, once built. */
uint64_t arch_kernel_root(void);
/* Switch on every protection the CPU has (SMEP, SMAP, UMIP, ...) and log them. */
void arch_protect(void);
/* Log the descriptor tables arch_cpu_init loaded. */
void arch_log_tables(void);
/* Make system calls reach the kernel (per-CPU data, SYSCALL MSRs). */
void arch_syscall_init(void);

/* Ready the consoles (COM1, which the boot stub programmed, and the 0xE9
 * debug port): find out whether a UART answers. */
void arch_console_init(void);
/* Write one byte to every console. */
void arch_console_putc(char c);
/* Hide the VGA text-mode cursor (the screen console draws no cursor). */
void arch_vga_cursor_hide(void);
/* Map the framebuffer [pa, pa + size) into the kernel half, write-combining
 * (uncached without PAT), kernel-only, no-execute; page tables from `alloc`.
 * Returns its virtual address, or NULL.  Once, before any user space exists. */
void *arch_map_framebuffer(uint64_t pa, uint64_t size, uint64_t (*alloc)(void));

/* Stop this CPU for good (interrupts off, halt loop). */
__attribute__((noreturn)) void arch_halt_forever(void);
/* Leave the emulator with `code` if one is listening (QEMU isa-debug-exit,
 * Bochs shutdown port); returns only on real hardware. */
void arch_emulator_exit(uint32_t code);

/* Print a symbolized backtrace starting at frame pointer `rbp`. */
void arch_backtrace(uint64_t rbp);

/* Physical <-> direct-map virtual conversions. */
void *phys_to_virt(uint64_t pa);
uint64_t virt_to_phys_kernel_image(const void *va);
/* Physical address of a direct-map (HHDM) address. */
uint64_t virt_to_phys_direct(const void *va);

/* Physical extent of the loaded kernel image, boot stub and tables included. */
void arch_kernel_image(uint64_t *phys_base, uint64_t *phys_end);
/* Call fn(table_phys, ctx) for the root table and every table reachable
 * from it (leaf pages are not visited). */
void arch_pt_for_each_table(uint64_t root, void (*fn)(uint64_t table_phys, void *ctx), void *ctx);

struct task;
struct trap_frame;
/* Load t's address space (CR3, with its PCID when the CPU has them). */
void arch_switch_space(struct task *t);
/* Kernel stack for the next entry from ring 3 (TSS.rsp0 and SYSCALL's). */
void arch_set_kernel_stack(uint64_t top);
/* Restore a user frame and leave to ring 3 (SYSRET or IRETQ). */
__attribute__((noreturn)) void arch_return_to_user(struct trap_frame *tf);
struct thread;
/* Per-thread FPU/vector registers: enable them for ring 3 and log how
 * (once, at boot). */
void arch_fpu_init(void);
/* Give th a clean register save area; false when the pool is exhausted. */
bool arch_fpu_thread_init(struct thread *th);
/* Free th's save area (th is dead; its registers were wiped). */
void arch_fpu_thread_free(struct thread *th);
/* th is dying: wipe the registers if they hold its state. */
void arch_fpu_thread_dying(struct thread *th);
/* Halt on the given stack with interrupts on until a thread is runnable. */
__attribute__((noreturn)) void arch_idle_loop(uint64_t stack_top);
/* Ticks: start the periodic timer (LAPIC, or the PIT) at 1000 Hz. */
void arch_timer_init(void);
/* Acknowledge the timer interrupt. */
void arch_timer_eoi(void);

#endif
