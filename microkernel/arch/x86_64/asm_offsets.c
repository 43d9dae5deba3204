/* Emits the constants and structure offsets that assembly needs, so that
 * they come from one C source.  Compiled with -S; the build extracts every
 * "->NAME value" marker into build/gen/asm_offsets.inc as %define lines. */
#include <stddef.h>

#include "arch/layout.h"
#include "arch/paging.h"
#include "arch/percpu.h"
#include "arch/trap.h"
#include "boot/multiboot2.h"
#include "mica/abi.h"

#define DEFINE(name, value) __asm__ volatile("\n.ascii \"->" #name " %0\"" : : "i"(value))
#define TF(NAME, field) DEFINE(TF_##NAME, offsetof(struct trap_frame, field))

void asm_offsets(void);

void asm_offsets(void)
{
    DEFINE(KERNEL_PHYS_BASE, KERNEL_PHYS_BASE);
    DEFINE(KERNEL_VMA, KERNEL_VMA);
    DEFINE(HHDM_BASE, HHDM_BASE);
    DEFINE(BOOT_STACK_SIZE, BOOT_STACK_SIZE);
    DEFINE(GDT_KERNEL_CS, GDT_KERNEL_CS);
    DEFINE(GDT_KERNEL_DS, GDT_KERNEL_DS);
    DEFINE(GDT_DESC_KERNEL_CODE, GDT_DESC_KERNEL_CODE);
    DEFINE(GDT_DESC_KERNEL_DATA, GDT_DESC_KERNEL_DATA);
    DEFINE(CR0_PE, CR0_PE);
    DEFINE(CR0_WP, CR0_WP);
    DEFINE(CR0_PG, CR0_PG);
    DEFINE(CR4_PAE, CR4_PAE);
    DEFINE(CR4_LA57, CR4_LA57);
    DEFINE(MSR_EFER, MSR_EFER);
    DEFINE(EFER_LME, EFER_LME);
    DEFINE(EFER_NXE, EFER_NXE);
    DEFINE(PTE_P, PTE_P);
    DEFINE(PTE_W, PTE_W);
    DEFINE(PTE_PS, PTE_PS);
    DEFINE(DEBUG_EXIT_PORT, DEBUG_EXIT_PORT);
    DEFINE(COM1_PORT, COM1_PORT);
    DEFINE(E9_PORT, E9_PORT);
    DEFINE(UART_DATA, UART_DATA);
    DEFINE(UART_IER, UART_IER);
    DEFINE(UART_FCR, UART_FCR);
    DEFINE(UART_LCR, UART_LCR);
    DEFINE(UART_MCR, UART_MCR);
    DEFINE(UART_LSR, UART_LSR);
    DEFINE(UART_IER_NONE, UART_IER_NONE);
    DEFINE(UART_LCR_DLAB, UART_LCR_DLAB);
    DEFINE(UART_LCR_8N1, UART_LCR_8N1);
    DEFINE(UART_DIVISOR, UART_DIVISOR);
    DEFINE(UART_FCR_ON, UART_FCR_ON);
    DEFINE(UART_MCR_DTR_RTS, UART_MCR_DTR_RTS);
    DEFINE(UART_LSR_THR_EMPTY, UART_LSR_THR_EMPTY);
    DEFINE(UART_SPIN, UART_SPIN);
    DEFINE(MB2_BOOTLOADER_MAGIC, MB2_BOOTLOADER_MAGIC);
    DEFINE(MB2_HEADER_MAGIC, MB2_HEADER_MAGIC);
    DEFINE(MB2_TAG_CMDLINE, MB2_TAG_CMDLINE);
    DEFINE(MB2_TAG_MODULE, MB2_TAG_MODULE);
    DEFINE(MB2_TAG_MMAP, MB2_TAG_MMAP);
    DEFINE(MB2_TAG_FRAMEBUFFER, MB2_TAG_FRAMEBUFFER);
    DEFINE(MB2_TAG_ELF_SECTIONS, MB2_TAG_ELF_SECTIONS);
    DEFINE(MB2_TAG_ACPI_OLD, MB2_TAG_ACPI_OLD);
    DEFINE(MB2_TAG_ACPI_NEW, MB2_TAG_ACPI_NEW);
    DEFINE(MB2_TAG_EFI_MMAP, MB2_TAG_EFI_MMAP);
    DEFINE(MB2_TAG_LOAD_BASE_ADDR, MB2_TAG_LOAD_BASE_ADDR);
    TF(R15, r15);
    TF(R14, r14);
    TF(R13, r13);
    TF(R12, r12);
    TF(R11, r11);
    TF(R10, r10);
    TF(R9, r9);
    TF(R8, r8);
    TF(RBP, rbp);
    TF(RDI, rdi);
    TF(RSI, rsi);
    TF(RDX, rdx);
    TF(RCX, rcx);
    TF(RBX, rbx);
    TF(RAX, rax);
    TF(VECTOR, vector);
    TF(ERROR, error);
    TF(RIP, rip);
    TF(CS, cs);
    TF(RFLAGS, rflags);
    TF(RSP, rsp);
    TF(SS, ss);
    DEFINE(TF_SIZE, sizeof(struct trap_frame));
    DEFINE(VEC_SYSCALL, VEC_SYSCALL);
    DEFINE(SYS_CALL, SYS_CALL);
    DEFINE(SYS_REPLY_RECV, SYS_REPLY_RECV);
    DEFINE(GDT_USER_CS, GDT_USER_CS);
    DEFINE(GDT_USER_DS, GDT_USER_DS);
    DEFINE(GDT_USER_CS32, GDT_USER_CS32);
    DEFINE(VEC_UD, VEC_UD);
    DEFINE(PERCPU_KSTACK_TOP, offsetof(struct percpu, kstack_top));
    DEFINE(PERCPU_USER_RSP, offsetof(struct percpu, user_rsp));
}
