/* Host tests for libbase: the formatter (against the C library's printf)
 * and the command-line word helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/fmt.h"
#include "base/status.h"
#include "base/str.h"
#include "check.h"
#include "mica/abi.h"

/* Format with both fmt_vsnprintf and vsnprintf; true when they agree on the
 * text and the returned length. */
static int same_as_libc(const char *fmt, ...)
{
    char a[256], b[256];
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    int na = fmt_vsnprintf(a, sizeof a, fmt, ap);
    int nb = vsnprintf(b, sizeof b, fmt, aq);
    va_end(aq);
    va_end(ap);
    if (na != nb || strcmp(a, b) != 0) {
        printf("#   fmt \"%s\": got \"%s\" (%d), libc \"%s\" (%d)\n", fmt, a, na, b, nb);
        return 0;
    }
    return 1;
}

static void test_fmt(void)
{
    CHECK(same_as_libc("plain"));
    CHECK(same_as_libc("%d %i %u", -12345, 0, 4000000000u));
    CHECK(same_as_libc("%x %X %o", 0xdeadbeefu, 0xabcu, 0755u));
    CHECK(same_as_libc("%ld %lu %lx", -1L, 18446744073709551615UL, 0xffffffffffffffffUL));
    CHECK(same_as_libc("%lld %llx", -9223372036854775807LL - 1, 0x8000000000000000ULL));
    CHECK(same_as_libc("%zu %zx", (size_t)42, (size_t)0x1000));
    CHECK(same_as_libc("%hd %hhu", (short)-2, (unsigned char)250));
    CHECK(same_as_libc("[%5d] [%-5d] [%05d] [%-05d]", 42, 42, 42, 42));
    CHECK(same_as_libc("[%016llx] [%4x]", 0x1234ULL, 0x123456u));
    CHECK(same_as_libc("[%s] [%10s] [%-10s] [%.3s] [%.*s]", "abc", "abc", "abc", "abcdef", 2, "xyz"));
    CHECK(same_as_libc("[%c%c] %%", 'o', 'k'));
    CHECK(same_as_libc("[%*d] [%-*d]", 6, -7, 6, -7));
    CHECK(same_as_libc("%05d", -42));

    /* %p is ours: always 0x and 16 digits. */
    char buf[64];
    fmt_snprintf(buf, sizeof buf, "%p", (void *)0x1234);
    CHECK(strcmp(buf, "0x0000000000001234") == 0);

    /* Truncation: NUL-terminated, and the full length is returned. */
    char small[8];
    int n = fmt_snprintf(small, sizeof small, "%s", "0123456789");
    CHECK(n == 10 && strcmp(small, "0123456") == 0);
    CHECK(fmt_snprintf(NULL, 0, "%d", 12345) == 5);
    n = fmt_snprintf(small, 1, "abc");
    CHECK(n == 3 && small[0] == '\0');
    const char *volatile null_string = NULL;
    fmt_snprintf(buf, sizeof buf, "%s", null_string);
    CHECK(strcmp(buf, "(null)") == 0);
    /* An unknown conversion is printed, not interpreted. */
    const char *volatile odd = "%q%d";
    fmt_snprintf(buf, sizeof buf, odd, 5);
    CHECK(strcmp(buf, "%q5") == 0);
    const char *volatile trailing = "end%";
    fmt_snprintf(buf, sizeof buf, trailing);
    CHECK(strcmp(buf, "end%") == 0);
}

static void test_words(void)
{
    const char *v;
    size_t len;
    CHECK(str_word_value("paging=4 test=boot,fault", "test", &v, &len) && len == 10 &&
          strncmp(v, "boot,fault", len) == 0);
    CHECK(str_word_value("  test=x  ", "test", &v, &len) && len == 1 && v[0] == 'x');
    CHECK(str_word_value("test=", "test", &v, &len) && len == 0);
    CHECK(!str_word_value("attest=1 tests=2 test", "test", &v, &len));
    CHECK(!str_word_value("", "test", &v, &len));
    CHECK(str_has_word("a paging=4 b", "paging=4"));
    CHECK(!str_has_word("paging=45", "paging=4"));
    CHECK(!str_has_word("xpaging=4", "paging=4"));
    CHECK(str_has_word("\tpaging=4", "paging=4"));
    CHECK(!str_has_word("", "paging=4"));
    CHECK(str_eq("", "") && str_eq("abc", "abc") && !str_eq("abc", "abd") && !str_eq("ab", "abc"));
    CHECK(str_nlen("abc", 10) == 3 && str_nlen("abc", 2) == 2 && str_nlen("", 5) == 0);

    uint64_t x;
    CHECK(str_parse_u64("12345", 5, &x) && x == 12345);
    CHECK(str_parse_u64("0x1fF", 5, &x) && x == 0x1ff);
    CHECK(str_parse_u64("18446744073709551615", 20, &x) && x == UINT64_MAX);
    CHECK(!str_parse_u64("18446744073709551616", 20, &x));
    CHECK(!str_parse_u64("0x", 2, &x));
    CHECK(!str_parse_u64("12a", 3, &x));
    CHECK(!str_parse_u64("", 0, &x));
    CHECK(str_parse_u64("123456", 3, &x) && x == 123);
}

/* Every status code's name is the name of its macro in abi.h. */
static void test_status_names(void)
{
#define NAMED(code) CHECK(str_eq(status_name(code), #code))
    NAMED(MICA_OK);
    NAMED(MICA_ENOSYS);
    NAMED(MICA_EINVAL);
    NAMED(MICA_EBADH);
    NAMED(MICA_ETYPE);
    NAMED(MICA_ERIGHTS);
    NAMED(MICA_EFAULT);
    NAMED(MICA_ENOMEM);
    NAMED(MICA_ENOHANDLES);
    NAMED(MICA_ETIMEOUT);
    NAMED(MICA_EDEAD);
    NAMED(MICA_EABORTED);
    NAMED(MICA_ETOOLONG);
    NAMED(MICA_ENOREPLY);
    NAMED(MICA_EKERNEL);
    NAMED(MICA_ENONCANON);
    NAMED(MICA_ENOTOWNER);
    NAMED(MICA_EUPGRADE);
    NAMED(MICA_EEXISTS);
    NAMED(MICA_EBUSY);
#undef NAMED
    CHECK(str_eq(status_name(MICA_EBUSY - 1), "MICA_E?") && str_eq(status_name(1), "MICA_E?"));
    CHECK(str_eq(status_name(-2147483647 - 1), "MICA_E?"));
}

int main(void)
{
    test_fmt();
    test_words();
    test_status_names();
    return check_done();
}
