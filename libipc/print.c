/* Debug output for user programs: format into a stack buffer, write it
 * with one SYS_DEBUG_WRITE.  The contract is in <mica/ipc.h>. */
#include <base/fmt.h>
#include <base/str.h>
#include <mica/ipc.h>

#define PRINT_BUF 256

/* Write the first len bytes of buf; the byte count or the failed status. */
static int write_out(const char *buf, size_t len)
{
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
        /* Too long to copy: the line goes out in two writes. */
        int n = write_out(s, len);
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
