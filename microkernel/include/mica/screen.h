/* The screen console: the kernel log on the screen a person watches.
 *
 * It draws on what the boot loader describes in the multiboot2 framebuffer
 * tag: the VGA text screen (EGA text, BIOS boots) or a linear framebuffer
 * of 16, 24 or 32 bits per pixel (UEFI boots), with the built-in 8x16 font
 * (mica/font.h), the level tags in colour ([ OK ] green, [INFO] cyan,
 * [WARN] yellow, whole [FAIL] lines red), wrapping and scrolling.  Serial
 * and port 0xE9 stay the primary consoles: the screen only ever gets a copy,
 * after them, and turns itself off for good rather than fault twice.
 *
 * Until screen_init(), written text is kept (up to SCREEN_EARLY_BYTES) and
 * drawn when the screen starts. */
#ifndef MICA_SCREEN_H
#define MICA_SCREEN_H

#include <stdbool.h>
#include <stdint.h>

struct mb2_info;

#define SCREEN_EARLY_BYTES 4096

/* Start on the framebuffer of `mb`, through the boot stub's map of the low
 * 4 GiB (a framebuffer above it waits for screen_map); say on the log what
 * the screen is, or why there is none. */
void screen_init(const struct mb2_info *mb);

/* Map the framebuffer in the kernel's own tables (write-combining, kernel
 * only; page tables from `alloc`) and draw through that mapping from now
 * on.  Call right after the kernel's tables are loaded, before any log. */
void screen_map(uint64_t (*alloc)(void));

/* Draw `len` bytes of log text.  Called by console_write for every byte
 * the kernel or user space logs. */
void screen_write(const char *s, unsigned long len);

/* Where the framebuffer is mapped (NULL when the screen does not use the
 * kernel's window): for the in-kernel boot tests. */
const void *screen_mapping(uint64_t *phys, uint64_t *size);

#endif
