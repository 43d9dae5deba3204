/* The kernel log; see include/mica/log.h. */
#include <stdarg.h>

#include "base/fmt.h"
#include "mica/arch.h"
#include "mica/log.h"
#include "mica/screen.h"

/* Lines longer than this are cut; the log is for people, not bulk data.
 * 320: the longest line (a bad test= word with every suite it could name)
 * is 262 bytes. */
#define LOG_LINE_MAX 320

static const char *const prefixes[] = {
    [LOG_OK] = "[ OK ] ",   [LOG_INFO] = "[INFO] ", [LOG_WARN] = "[WARN] ",
    [LOG_FAIL] = "[FAIL] ", [LOG_RAW] = "",
};

void console_write(const char *s, unsigned long len)
{
    for (unsigned long i = 0; i < len; i++) {
        if (s[i] == '\n')
            arch_console_putc('\r');
        arch_console_putc(s[i]);
    }
    screen_write(s, len);
}

/* Format into a line buffer and write it out. */
static void vlog(const char *prefix, const char *fmt, va_list ap, const char *suffix)
{
    char line[LOG_LINE_MAX];
    int n = fmt_snprintf(line, sizeof line, "%s", prefix);
    int m = fmt_vsnprintf(line + n, sizeof line - (unsigned long)n, fmt, ap);
    unsigned long len = (unsigned long)n + (unsigned long)m;
    if (len > sizeof line - 1)
        len = sizeof line - 1;
    console_write(line, len);
    console_write(suffix, suffix[0] ? 1 : 0);
}

void klog(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(prefixes[level], fmt, ap, "\n");
    va_end(ap);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("", fmt, ap, "");
    va_end(ap);
}
