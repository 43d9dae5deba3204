/* The screen console's built-in font (kernel/font.c). */
#ifndef MICA_FONT_H
#define MICA_FONT_H

#include <stdint.h>

#define FONT_FIRST 0x20 /* ' ' */
#define FONT_LAST 0x7e  /* '~' */
#define FONT_COUNT (FONT_LAST - FONT_FIRST + 1)
#define FONT_ROWS 8  /* rows of a glyph; each is drawn twice */
#define FONT_WIDTH 8 /* pixels of a row, bit 7 leftmost */

/* font_glyphs[c - FONT_FIRST][row]: the glyph of printable character c. */
extern const uint8_t font_glyphs[FONT_COUNT][FONT_ROWS];

#endif
