/* Debug output for user programs: format into a stack buffer, write it
 * with one SYS_DEBUG_WRITE, and count identical lines in a row instead of
 * repeating them.  The contract is in <mica/ipc.h>. */
#include <base/fmt.h>
#include <base/str.h>
#include <mica/ipc.h>

#define PRINT_BUF 256

/* Repeats.  A program that prints the same line again and again (a loop
 * around a call that keeps failing) must not flood the log: the first copy
 * is written, the next ones are only counted, and the line is written
 * again with its count at 10, 100, 1000, ... copies and, when a different
 * line follows, with the final count.  The state is per program and takes
 * no lock: two threads racing here can at worst blur a count. */
static uint64_t last_hash; /* FNV-1a of the last write; 0: none yet */
static uint64_t copies;    /* how often it came in a row */
static char last_text[PRINT_BUF];
static size_t last_len;

/* FNV-1a of buf[0..len), never 0. */
static uint64_t line_hash(const char *buf, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)buf[i]) * 0x100000001b3ull;
    return h | 1;
}

/* Write the remembered line again, followed by its count. */
static void write_count(const char *how)
{
    char line[PRINT_BUF + 64];
    size_t n = last_len;
    while (n > 0 && last_text[n - 1] == '\n')
        n--;
    int m = fmt_snprintf(line, sizeof line, "%.*s [%s %llu times]\n", (int)n, last_text, how,
                         (unsigned long long)copies);
    mica_debug_write(line, (size_t)m < sizeof line ? (size_t)m : sizeof line - 1);
}

/* True for 10, 100, 1000, ... */
static bool power_of_ten(uint64_t n)
{
    uint64_t p = 10;
    while (p < n && p <= UINT64_MAX / 10)
        p *= 10;
    return p == n;
}

/* Write the first len bytes of buf (len < PRINT_BUF), counting repeats
 * instead of writing them; the byte count or the failed status. */
static int write_out(const char *buf, size_t len)
{
    uint64_t h = line_hash(buf, len);
    if (h == last_hash && len == last_len) {
        copies++;
        if (power_of_ten(copies))
            write_count("so far");
        return (int)len;
    }
    if (copies > 1 && !power_of_ten(copies))
        write_count("in all");
    last_hash = h;
    last_len = len;
    copies = 1;
    for (size_t i = 0; i < len; i++)
        last_text[i] = buf[i];
    int st = mica_debug_write(buf, len);
    return st == MICA_OK ? (int)len : st;
}

int mica_vprintf(const char *fmt, va_list ap)
{
    char buf[PRINT_BUF];
    size_t len = (size_t)fmt_vsnprintf(buf, sizeof buf, fmt, ap);
    if (len >= sizeof buf) {
        /* Cut: fmt kept sizeof buf - 1 bytes; mark the cut in the last three. */
        len = sizeof buf - 1;
        buf[len - 3] = buf[len - 2] = buf[len - 1] = '.';
    }
    return write_out(buf, len);
}

int mica_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = mica_vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int mica_puts(const char *s)
{
    size_t len = str_nlen(s, SIZE_MAX);
    if (len >= PRINT_BUF) {
        /* Too long to copy: the line goes out in two writes, uncounted. */
        int st0 = mica_debug_write(s, len);
        int n = st0 == MICA_OK ? (int)len : st0;
        if (n < 0)
            return n;
        int st = mica_debug_write("\n", 1);
        return st == MICA_OK ? n + 1 : st;
    }
    char buf[PRINT_BUF];
    for (size_t i = 0; i < len; i++)
        buf[i] = s[i];
    buf[len] = '\n';
    return write_out(buf, len + 1);
}
