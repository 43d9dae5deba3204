/* The screen console; see include/mica/screen.h.
 *
 * The grid of characters lives in `cells` (character | attribute << 8, the
 * VGA text layout); the screen is a picture of it.  Writing a cell draws it
 * only if its content changed, and scrolling moves the grid and redraws the
 * cells that differ: the framebuffer is only ever written, never read (reads
 * of write-combining memory are slow on real hardware), and blank cells
 * that stay blank cost nothing.  On a framebuffer, the grid scrolls by a
 * quarter of the screen at a time, so a long log redraws the screen once
 * every rows/4 lines rather than on every line. */
#include <stddef.h>

#include "base/fmt.h"
#include "boot/multiboot2.h"
#include "mica/arch.h"
#include "mica/font.h"
#include "mica/log.h"
#include "mica/screen.h"

/* The largest grid kept (a 2048x1536 framebuffer in 8x16 cells); a larger
 * screen shows the log in its top-left part. */
#define MAX_COLS 256
#define MAX_ROWS 96
#define CELL_W FONT_WIDTH
#define CELL_H (2 * FONT_ROWS)
#define TAB 8

/* VGA attributes: foreground colour in the low nibble, background (black) above. */
#define ATTR_TEXT 0x07 /* light grey */
#define ATTR_OK 0x0a   /* bright green */
#define ATTR_INFO 0x0b /* bright cyan */
#define ATTR_WARN 0x0e /* yellow */
#define ATTR_FAIL 0x0c /* bright red */
#define BLANK ((uint16_t)(' ' | ATTR_TEXT << 8))

/* Prefix of a log line ("[ OK ] ") that selects a colour; see mica/log.h. */
#define TAG_LEN 6

/* The 16 VGA colours as 0xRRGGBB, for framebuffers. */
static const uint32_t vga_rgb[16] = {
    0x000000, 0x0000aa, 0x00aa00, 0x00aaaa, 0xaa0000, 0xaa00aa, 0xaa5500, 0xaaaaaa,
    0x555555, 0x5555ff, 0x55ff55, 0x55ffff, 0xff5555, 0xff55ff, 0xffff55, 0xffffff,
};

enum screen_state {
    SCREEN_EARLY, /* not started: text is kept in early[] */
    SCREEN_ON,    /* drawing */
    SCREEN_OFF,   /* no usable screen, or it faulted: serial and 0xE9 only */
};

/* All state of the console.  Touched only by the one CPU, with interrupts
 * off (the kernel is not preemptible). */
static struct {
    enum screen_state state;
    bool text;           /* EGA text cells, else pixels */
    bool busy;           /* inside screen_write: a second entry means it faulted */
    uint8_t *base;       /* the framebuffer's first byte, or NULL before a mapping */
    bool mapped;         /* base is the kernel's own mapping (screen_map) */
    uint64_t phys, size; /* the framebuffer in physical memory */
    uint32_t pitch, bytespp, width, height;
    unsigned cols, rows, scroll_step;
    unsigned row, col;  /* where the next character goes */
    bool line_start;    /* row holds the start of a line (not a wrapped tail) */
    uint8_t attr;       /* attribute for the rest of the current line */
    uint32_t pixel[16]; /* pixel value of each VGA colour */
} scr;

static uint16_t cells[MAX_ROWS * MAX_COLS];

static char early[SCREEN_EARLY_BYTES];
static unsigned long early_len, early_lost;

/* Pixel value of 0xRRGGBB in the framebuffer's RGB layout. */
static uint32_t pack_rgb(const struct mb2_framebuffer *fb, uint32_t rgb)
{
    uint32_t r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
    return (r >> (8 - fb->red_size)) << fb->red_pos | (g >> (8 - fb->green_size)) << fb->green_pos |
           (b >> (8 - fb->blue_size)) << fb->blue_pos;
}

/* Store 8 bytes at p, whatever its alignment. */
static void store64(uint8_t *p, uint64_t v)
{
    __builtin_memcpy(p, &v, sizeof v);
}

/* One row of a glyph (8 pixels, `bits` with bit 7 leftmost) as pixels in
 * `out`, which holds CELL_W * bytespp bytes rounded up to 8. */
static void glyph_row(uint8_t *out, unsigned bits, uint32_t fg, uint32_t bg)
{
    for (unsigned x = 0; x < CELL_W; x++) {
        uint32_t v = (bits & (0x80u >> x)) ? fg : bg;
        for (unsigned b = 0; b < scr.bytespp; b++)
            *out++ = (uint8_t)(v >> (8 * b));
    }
}

/* Show cell (r, c), whose content is v, on the screen.  A glyph row is
 * built once and stored 8 bytes at a time on its two pixel rows. */
static void draw_cell(unsigned r, unsigned c, uint16_t v)
{
    if (scr.text) {
        ((volatile uint16_t *)(scr.base + (uint64_t)r * scr.pitch))[c] = v;
        return;
    }
    const uint8_t *g = font_glyphs[(v & 0xff) - FONT_FIRST];
    uint32_t fg = scr.pixel[(v >> 8) & 15], bg = scr.pixel[(v >> 12) & 15];
    uint8_t *p = scr.base + (uint64_t)r * CELL_H * scr.pitch + (uint64_t)c * CELL_W * scr.bytespp;
    unsigned words = scr.bytespp; /* CELL_W * bytespp bytes = bytespp 8-byte words */
    uint64_t row[4];
    for (unsigned y = 0; y < FONT_ROWS; y++, p += 2 * scr.pitch) {
        glyph_row((uint8_t *)row, g[y], fg, bg);
        for (unsigned w = 0; w < words; w++) {
            store64(p + 8 * w, row[w]);
            store64(p + scr.pitch + 8 * w, row[w]);
        }
    }
}

/* Give cell (r, c) the content v; draw it if that changes it. */
static void set_cell(unsigned r, unsigned c, uint16_t v)
{
    uint16_t *cell = &cells[r * MAX_COLS + c];
    if (*cell == v)
        return;
    *cell = v;
    draw_cell(r, c, v);
}

/* Move the grid up by n rows, blank the n rows at the bottom. */
static void scroll(unsigned n)
{
    for (unsigned r = 0; r < scr.rows; r++)
        for (unsigned c = 0; c < scr.cols; c++)
            set_cell(r, c, r + n < scr.rows ? cells[(r + n) * MAX_COLS + c] : BLANK);
    scr.row = scr.rows - n;
}

/* Continue on the next row; `hard` ends the log line (and its colour). */
static void next_row(bool hard)
{
    scr.col = 0;
    scr.line_start = hard;
    if (hard)
        scr.attr = ATTR_TEXT;
    if (scr.row + 1 < scr.rows)
        scr.row++;
    else
        scroll(scr.scroll_step);
}

/* The row's first TAG_LEN cells were just written: colour a level tag. */
static void colour_tag(void)
{
    static const struct {
        char tag[TAG_LEN + 1];
        uint8_t attr;
    } tags[] = {{"[ OK ]", ATTR_OK}, {"[INFO]", ATTR_INFO}, {"[WARN]", ATTR_WARN}, {"[FAIL]", ATTR_FAIL}};
    const uint16_t *row = &cells[scr.row * MAX_COLS];
    for (unsigned t = 0; t < sizeof tags / sizeof tags[0]; t++) {
        unsigned i = 0;
        while (i < TAG_LEN && (row[i] & 0xff) == (uint8_t)tags[t].tag[i])
            i++;
        if (i < TAG_LEN)
            continue;
        bool whole = tags[t].attr == ATTR_FAIL; /* a failure is red from end to end */
        for (i = whole ? 0 : 1; i < (whole ? TAG_LEN : TAG_LEN - 1); i++)
            set_cell(scr.row, i, (uint16_t)((row[i] & 0xff) | tags[t].attr << 8));
        if (whole)
            scr.attr = ATTR_FAIL;
        return;
    }
}

/* Put one byte of log text on the grid. */
static void put_char(unsigned char ch)
{
    if (ch == '\n') {
        next_row(true);
        return;
    }
    if (ch == '\r')
        return; /* console_write adds it for serial terminals only */
    if (ch == '\t') {
        do
            put_char(' ');
        while (scr.col % TAB != 0 && scr.col < scr.cols);
        return;
    }
    if (ch < FONT_FIRST || ch > FONT_LAST)
        ch = '?';
    if (scr.col == scr.cols)
        next_row(false); /* wrap only when a character needs the room */
    set_cell(scr.row, scr.col, (uint16_t)(ch | scr.attr << 8));
    scr.col++;
    if (scr.col == TAG_LEN && scr.line_start)
        colour_tag();
}

/* Blank the whole screen and the grid; the cursor at the top left. */
static void clear(void)
{
    for (unsigned i = 0; i < MAX_ROWS * MAX_COLS; i++)
        cells[i] = BLANK;
    if (scr.text) {
        for (unsigned r = 0; r < scr.rows; r++)
            for (unsigned c = 0; c < scr.cols; c++)
                draw_cell(r, c, BLANK);
    } else {
        uint64_t bytes = (uint64_t)scr.width * scr.bytespp;
        for (uint32_t y = 0; y < scr.height; y++) {
            uint8_t *p = scr.base + (uint64_t)y * scr.pitch;
            uint64_t x = 0;
            for (; x + 8 <= bytes; x += 8)
                store64(p + x, 0);
            for (; x < bytes; x++)
                p[x] = 0;
        }
    }
    scr.row = scr.col = 0;
    scr.line_start = true;
    scr.attr = ATTR_TEXT;
}

/* Clear the screen, start drawing, and draw what was logged before. */
static void start(void)
{
    if (scr.text)
        arch_vga_cursor_hide();
    clear();
    scr.state = SCREEN_ON;
    screen_write(early, early_len);
    if (early_lost)
        LOG_WARN("screen: %lu bytes of the early log are on serial and port 0xE9 only", early_lost);
}

/* Fill scr from the framebuffer tag; NULL, or why it cannot be drawn on. */
static const char *setup(const struct mb2_info *mb)
{
    static char why[96];
    if (!mb->have_framebuffer)
        return "the boot loader gave no framebuffer";
    const struct mb2_framebuffer *fb = &mb->fb;
    scr.text = fb->type == MB2_FB_EGA_TEXT;
    if (fb->type == MB2_FB_RGB && (fb->bpp == 16 || fb->bpp == 24 || fb->bpp == 32)) {
        scr.cols = fb->width / CELL_W;
        scr.rows = fb->height / CELL_H;
        scr.bytespp = fb->bpp / 8u;
        for (unsigned i = 0; i < 16; i++)
            scr.pixel[i] = pack_rgb(fb, vga_rgb[i]);
    } else if (scr.text) {
        scr.cols = fb->width;
        scr.rows = fb->height;
        scr.bytespp = 2;
    } else {
        fmt_snprintf(why, sizeof why, "cannot draw on a framebuffer of type %u with %u bits per pixel",
                     fb->type, fb->bpp);
        return why;
    }
    if (scr.cols == 0 || scr.rows < 2)
        return "the framebuffer is too small for two lines";
    scr.cols = scr.cols > MAX_COLS ? MAX_COLS : scr.cols;
    scr.rows = scr.rows > MAX_ROWS ? MAX_ROWS : scr.rows;
    scr.scroll_step = scr.text ? 1 : (scr.rows / 4 ? scr.rows / 4 : 1);
    scr.phys = fb->addr;
    scr.pitch = fb->pitch;
    scr.width = fb->width;
    scr.height = fb->height;
    scr.size = (uint64_t)fb->pitch * fb->height;
    return NULL;
}

void screen_init(const struct mb2_info *mb)
{
    const char *why = setup(mb);
    if (why) {
        scr.state = SCREEN_OFF;
        LOG_WARN("screen: %s; the log goes to serial and port 0xE9 only", why);
        return;
    }
    /* The boot stub maps the low 4 GiB; above, wait for screen_map(). */
    if (scr.phys + scr.size <= (4ull << 30)) {
        scr.base = phys_to_virt(scr.phys);
        start();
    }
    if (scr.text)
        LOG_OK("screen: VGA text, %ux%u characters", scr.cols, scr.rows);
    else
        LOG_OK("screen: %ux%u framebuffer at 0x%llx, %u bits per pixel: %ux%u characters", scr.width,
               scr.height, (unsigned long long)scr.phys, scr.bytespp * 8, scr.cols, scr.rows);
}

void screen_map(uint64_t (*alloc)(void))
{
    if (scr.state == SCREEN_OFF)
        return;
    void *va = arch_map_framebuffer(scr.phys, scr.size, alloc);
    if (va == NULL) {
        scr.state = SCREEN_OFF;
        LOG_WARN("screen: cannot map the framebuffer at 0x%llx (%llu KiB); the log goes to serial and "
                 "port 0xE9 only",
                 (unsigned long long)scr.phys, (unsigned long long)(scr.size >> 10));
        return;
    }
    scr.base = va;
    scr.mapped = true;
    if (scr.state == SCREEN_EARLY)
        start();
}

void screen_write(const char *s, unsigned long len)
{
    if (scr.state == SCREEN_EARLY) {
        unsigned long n = len < sizeof early - early_len ? len : sizeof early - early_len;
        for (unsigned long i = 0; i < n; i++)
            early[early_len++] = s[i];
        early_lost += len - n;
        return;
    }
    if (scr.state != SCREEN_ON)
        return;
    if (scr.busy) {
        /* Entered again while drawing: the drawing faulted (or an NMI
         * logs).  Never draw again; the dump that follows goes to serial. */
        scr.state = SCREEN_OFF;
        return;
    }
    scr.busy = true;
    for (unsigned long i = 0; i < len; i++)
        put_char((unsigned char)s[i]);
    scr.busy = false;
}

const void *screen_mapping(uint64_t *phys, uint64_t *size)
{
    *phys = scr.phys;
    *size = scr.size;
    return scr.mapped ? scr.base : NULL;
}
