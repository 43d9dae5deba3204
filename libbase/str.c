/* String helpers; see include/base/str.h. */
#include "base/str.h"

size_t str_nlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n] != '\0')
        n++;
    return n;
}

bool str_eq(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* Advance past spaces and tabs. */
static const char *skip_blanks(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Length of the word starting at p (up to a blank or the end). */
static size_t word_len(const char *p)
{
    size_t n = 0;
    while (p[n] != '\0' && p[n] != ' ' && p[n] != '\t')
        n++;
    return n;
}

/* True when the first n bytes of p equal the NUL-terminated prefix. */
static bool has_prefix(const char *p, size_t n, const char *prefix)
{
    size_t i = 0;
    for (; prefix[i] != '\0'; i++)
        if (i >= n || p[i] != prefix[i])
            return false;
    return true;
}

bool str_word_value(const char *line, const char *key, const char **val, size_t *len)
{
    size_t klen = str_nlen(key, 256);
    for (const char *p = skip_blanks(line); *p != '\0'; p = skip_blanks(p)) {
        size_t n = word_len(p);
        if (n > klen && has_prefix(p, n, key) && p[klen] == '=') {
            *val = p + klen + 1;
            *len = n - klen - 1;
            return true;
        }
        p += n;
    }
    return false;
}

bool str_has_word(const char *line, const char *word)
{
    size_t wlen = str_nlen(word, 256);
    for (const char *p = skip_blanks(line); *p != '\0'; p = skip_blanks(p)) {
        size_t n = word_len(p);
        if (n == wlen && has_prefix(p, n, word))
            return true;
        p += n;
    }
    return false;
}

/* Value of one digit in `base`, or -1. */
static int digit_value(char c, unsigned base)
{
    int v = -1;
    if (c >= '0' && c <= '9')
        v = c - '0';
    else if (c >= 'a' && c <= 'f')
        v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        v = c - 'A' + 10;
    return (v >= 0 && (unsigned)v < base) ? v : -1;
}

bool str_parse_u64(const char *s, size_t len, uint64_t *out)
{
    unsigned base = 10;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        len -= 2;
    }
    if (len == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        int d = digit_value(s[i], base);
        if (d < 0 || v > (UINT64_MAX - (uint64_t)d) / base)
            return false;
        v = v * base + (uint64_t)d;
    }
    *out = v;
    return true;
}
