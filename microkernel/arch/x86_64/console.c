/* Consoles: the COM1 UART and the 0xE9 debug port (QEMU debugcon, Bochs
 * port_e9_hack).  Both get every byte, so a log is never lost because one
 * of them is absent.  The screen (kernel/screen.c) gets a copy after them. */
#include <stdbool.h>

#include "arch/cpu.h"
#include "arch/layout.h"
#include "mica/arch.h"

#define COM1 COM1_PORT
#define E9 E9_PORT

static bool com1_present;

/* The boot stub programmed the UART (serial_init in boot.asm, the values
 * of arch/layout.h) before anything else; here we only find out whether
 * there is one: a floating bus reads 0xff, and then there is nothing to
 * wait for. */
void arch_console_init(void)
{
    com1_present = inb(COM1 + UART_LSR) != 0xff;
}

void arch_console_putc(char c)
{
    if (com1_present) {
        for (int i = 0; i < UART_SPIN && !(inb(COM1 + UART_LSR) & UART_LSR_THR_EMPTY); i++)
            ;
        outb(COM1 + UART_DATA, (uint8_t)c);
    }
    outb(E9, (uint8_t)c);
}

/* The VGA CRT controller: index port, data port, cursor-start register. */
#define CRTC_INDEX 0x3d4
#define CRTC_DATA 0x3d5
#define CRTC_CURSOR_START 0x0a
#define CURSOR_DISABLE 0x20

void arch_vga_cursor_hide(void)
{
    outb(CRTC_INDEX, CRTC_CURSOR_START);
    outb(CRTC_DATA, CURSOR_DISABLE);
}

void arch_emulator_exit(uint32_t code)
{
    /* QEMU: -device isa-debug-exit,iobase=0xf4,iosize=0x04 */
    outl(DEBUG_EXIT_PORT, code);
    /* Bochs: the string "Shutdown" on port 0x8900 ends the simulation. */
    for (const char *s = "Shutdown"; *s; s++)
        outb(0x8900, (uint8_t)*s);
}

__attribute__((noreturn)) void arch_halt_forever(void)
{
    for (;;) {
        cpu_cli();
        cpu_halt();
    }
}
