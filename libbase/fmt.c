/* printf-style formatting without floating point; see include/base/fmt.h. */
#include "base/fmt.h"

#include <stdbool.h>
#include <stdint.h>

/* Output cursor: counts every byte, stores those that fit. */
struct out {
    char *buf;
    size_t size;
    size_t len;
};

/* Append one byte (dropped when the buffer is full; still counted). */
static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

/* Append c n times. */
static void pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

/* One conversion's flags, width and precision. */
struct spec {
    bool left, zero;
    int width, prec;
};

/* Append at most max bytes of s, padded to the width. */
static void put_str(struct out *o, const char *s, const struct spec *sp)
{
    if (s == NULL)
        s = "(null)";
    int n = 0;
    while (s[n] != '\0' && (sp->prec < 0 || n < sp->prec))
        n++;
    if (!sp->left)
        pad(o, ' ', sp->width - n);
    for (int i = 0; i < n; i++)
        put(o, s[i]);
    if (sp->left)
        pad(o, ' ', sp->width - n);
}

/* Append an unsigned number in base 8, 10 or 16 with an optional sign. */
static void put_num(struct out *o, uint64_t v, unsigned base, bool upper, char sign, const struct spec *sp)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v != 0);
    int body = n + (sign ? 1 : 0);
    if (!sp->left && !sp->zero)
        pad(o, ' ', sp->width - body);
    if (sign)
        put(o, sign);
    if (!sp->left && sp->zero)
        pad(o, '0', sp->width - body);
    while (n > 0)
        put(o, tmp[--n]);
    if (sp->left)
        pad(o, ' ', sp->width - body);
}

/* Parse flags, width and precision at *pp; advance *pp past them. */
static void parse_spec(const char **pp, va_list *ap, struct spec *sp)
{
    const char *p = *pp;
    *sp = (struct spec){.prec = -1};
    for (;; p++) {
        if (*p == '-')
            sp->left = true;
        else if (*p == '0')
            sp->zero = true;
        else
            break;
    }
    if (*p == '*') {
        sp->width = va_arg(*ap, int);
        p++;
    }
    while (*p >= '0' && *p <= '9')
        sp->width = sp->width * 10 + (*p++ - '0');
    if (*p == '.') {
        p++;
        sp->prec = 0;
        if (*p == '*') {
            sp->prec = va_arg(*ap, int);
            p++;
        }
        while (*p >= '0' && *p <= '9')
            sp->prec = sp->prec * 10 + (*p++ - '0');
    }
    *pp = p;
}

/* Length modifier: 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size_t. */
static int parse_length(const char **pp)
{
    const char *p = *pp;
    int len = 0;
    if (p[0] == 'l' && p[1] == 'l') {
        len = 2;
        p += 2;
    } else if (p[0] == 'l') {
        len = 1;
        p++;
    } else if (p[0] == 'h' && p[1] == 'h') {
        len = -2;
        p += 2;
    } else if (p[0] == 'h') {
        len = -1;
        p++;
    } else if (p[0] == 'z') {
        len = 3;
        p++;
    }
    *pp = p;
    return len;
}

/* Fetch an unsigned argument of the given length modifier. */
static uint64_t arg_unsigned(va_list *ap, int len)
{
    switch (len) {
    case 1:
        return va_arg(*ap, unsigned long);
    case 2:
        return va_arg(*ap, unsigned long long);
    case 3:
        return va_arg(*ap, size_t);
    case -1:
        return (unsigned short)va_arg(*ap, unsigned int);
    case -2:
        return (unsigned char)va_arg(*ap, unsigned int);
    default:
        return va_arg(*ap, unsigned int);
    }
}

/* Fetch a signed argument of the given length modifier. */
static int64_t arg_signed(va_list *ap, int len)
{
    switch (len) {
    case 1:
        return va_arg(*ap, long);
    case 2:
        return va_arg(*ap, long long);
    case 3:
        return (int64_t)va_arg(*ap, size_t);
    case -1:
        return (short)va_arg(*ap, int);
    case -2:
        return (signed char)va_arg(*ap, int);
    default:
        return va_arg(*ap, int);
    }
}

/* Format one conversion character c. */
static void convert(struct out *o, char c, int len, const struct spec *sp, va_list *ap)
{
    switch (c) {
    case 'd':
    case 'i': {
        int64_t v = arg_signed(ap, len);
        uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        put_num(o, mag, 10, false, v < 0 ? '-' : 0, sp);
        break;
    }
    case 'u':
        put_num(o, arg_unsigned(ap, len), 10, false, 0, sp);
        break;
    case 'x':
        put_num(o, arg_unsigned(ap, len), 16, false, 0, sp);
        break;
    case 'X':
        put_num(o, arg_unsigned(ap, len), 16, true, 0, sp);
        break;
    case 'o':
        put_num(o, arg_unsigned(ap, len), 8, false, 0, sp);
        break;
    case 'p': {
        struct spec ps = {.zero = true, .width = 16, .prec = -1};
        put(o, '0');
        put(o, 'x');
        put_num(o, (uintptr_t)va_arg(*ap, void *), 16, false, 0, &ps);
        break;
    }
    case 'c': {
        char s[2] = {(char)va_arg(*ap, int), '\0'};
        put_str(o, s, sp);
        break;
    }
    case 's':
        put_str(o, va_arg(*ap, const char *), sp);
        break;
    case '%':
        put(o, '%');
        break;
    default:
        put(o, '%');
        if (c != '\0')
            put(o, c);
        break;
    }
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0};
    va_list args;
    va_copy(args, ap);
    for (const char *p = fmt; *p != '\0'; p++) {
        if (*p != '%') {
            put(&o, *p);
            continue;
        }
        p++;
        struct spec sp;
        parse_spec(&p, &args, &sp);
        int len = parse_length(&p);
        convert(&o, *p, len, &sp, &args);
        if (*p == '\0')
            break;
    }
    va_end(args);
    if (size > 0)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
