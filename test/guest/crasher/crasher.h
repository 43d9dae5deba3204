/* The crasher's kinds of crash, shared by the crasher fixture
 * (test/guest/crasher) and by the test image's runner (test/guest/runner.c),
 * which gives init the crash= module option.
 *
 * A program cannot read its own GRUB module command line, so the test
 * image's init parses the module's crash=KIND (e.g. "crasher crash=pf-wild")
 * with crash_parse()
 * and passes the number as the program's argument word: main(bi, arg) gets
 * arg = the enum crash_kind.  0 is CRASH_EXIT_OK, so a crasher started with
 * no argument (the loader passes 0 when it gives no handle) exits cleanly.
 *
 * What each kind does, and what the kernel sees today (every IDT gate is
 * DPL 0, EFER.NXE is on, user RFLAGS has IOPL 0, the TSS has no I/O
 * bitmap, and init's loader maps a 16-page stack under 0x7fd000000000 with
 * nothing below it).  The task is stopped with SYS_TASK_STATUS reporting
 * MICA_TASK_FAULTED, the vector, and for #PF the address (CR2); for the
 * other vectors the address is the faulting RSP.  #PF error bits: P 1, W 2,
 * U 4, I 0x10.
 *
 *   kind                  name          does                          result
 *   CRASH_EXIT_OK         ok            returns 0 from main            exit code 0
 *   CRASH_PAGE_FAULT_WILD pf-wild       stores to 0x7000000000         #PF 14, error 0x6, CR2 0x7000000000
 *   CRASH_NULL            null          loads from address 0           #PF 14, error 0x4, CR2 0
 *   CRASH_WRITE_RODATA    rodata        stores to its own .rodata      #PF 14, error 0x7, CR2 in .rodata
 *   CRASH_EXEC_DATA       nx            calls a `ret` in its .data     #PF 14, error 0x15, CR2 = RIP in .data
 *   CRASH_UD              ud            ud2                            #UD 6
 *   CRASH_GP_PRIVILEGED   gp-priv       mov %cr3, %rax                 #GP 13, error 0
 *   CRASH_GP_NONCANONICAL gp-noncanon   loads from 0x8000000000000000  #GP 13, error 0
 *   CRASH_DE              de            divq by a zero register        #DE 0
 *   CRASH_BP              bp            int3                           #BP 3 (the kernel's gate 3 is DPL 3,
 * so ring 3 may raise it, as debuggers need) CRASH_STACK_OVERFLOW  stack         recursion, 2 KiB frames #PF
 * 14, error 0x6, CR2 just below 0x7fcfffff0000 (the stack's bottom) CRASH_IO_PORT         io            inb
 * $0x60                      #GP 13, error 0 CRASH_REPEAT          repeat        no crash: the same [WARN]
 * line 12345 times, one other line, exit 3 (the log's repeat counting, libipc/print.c)
 *
 * Header only (static inline), freestanding: the runner includes it too. */
#ifndef CRASHER_H
#define CRASHER_H

#include <stddef.h>

enum crash_kind {
    CRASH_EXIT_OK = 0, /* the control case: no crash */
    CRASH_PAGE_FAULT_WILD = 1,
    CRASH_NULL = 2,
    CRASH_WRITE_RODATA = 3,
    CRASH_EXEC_DATA = 4,
    CRASH_UD = 5,
    CRASH_GP_PRIVILEGED = 6,
    CRASH_GP_NONCANONICAL = 7,
    CRASH_DE = 8,
    CRASH_BP = 9,
    CRASH_STACK_OVERFLOW = 10,
    CRASH_IO_PORT = 11,
    CRASH_REPEAT = 12,
    CRASH_NKINDS /* not a kind: the count */
};

/* The short name of kind k (the word crash_parse accepts), or "unknown". */
static inline const char *crash_name(enum crash_kind k)
{
    static const char *const names[CRASH_NKINDS] = {
        [CRASH_EXIT_OK] = "ok",
        [CRASH_PAGE_FAULT_WILD] = "pf-wild",
        [CRASH_NULL] = "null",
        [CRASH_WRITE_RODATA] = "rodata",
        [CRASH_EXEC_DATA] = "nx",
        [CRASH_UD] = "ud",
        [CRASH_GP_PRIVILEGED] = "gp-priv",
        [CRASH_GP_NONCANONICAL] = "gp-noncanon",
        [CRASH_DE] = "de",
        [CRASH_BP] = "bp",
        [CRASH_STACK_OVERFLOW] = "stack",
        [CRASH_IO_PORT] = "io",
        [CRASH_REPEAT] = "repeat",
    };
    if ((unsigned)k >= CRASH_NKINDS)
        return "unknown";
    return names[k];
}

/* The kind named by the len bytes at word (which need not be
 * NUL-terminated), or -1 when no kind has that name. */
static inline int crash_parse(const char *word, size_t len)
{
    if (word == NULL)
        return -1;
    for (int k = 0; k < CRASH_NKINDS; k++) {
        const char *name = crash_name((enum crash_kind)k);
        size_t i = 0;
        while (i < len && name[i] != '\0' && name[i] == word[i])
            i++;
        if (i == len && name[i] == '\0')
            return k;
    }
    return -1;
}

#endif
