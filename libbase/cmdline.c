/* The kernel command line's words and their check; see base/cmdline.h.
 * This table is the only list: the kernel checks every word against it at
 * boot, and docs/boot.md must show the same keys (the harness compares). */
#include "base/cmdline.h"
#include "base/fmt.h"
#include "base/str.h"

const struct cmdline_word cmdline_words[] = {
    {"paging", CMDLINE_CHOICE, "4", 0, 0, "kernel"},
    {"timer", CMDLINE_CHOICE, "pit", 0, 0, "kernel"},
    {"timer_hz", CMDLINE_NUMBER, NULL, 100, 50000, "kernel"},
    {"break", CMDLINE_LIST, "init|pager-fault|user-fault", 0, 0, "kernel"},
    {"test", CMDLINE_LIST,
     "all|boot|ipc|pager|bigmem|servers|runtime|hostile|mdb|sysfuzz|kmem|fault:null-write|fault:text-write|"
     "fault:nx-"
     "exec|"
     "fault:ud|"
     "fault:gp|"
     "fault:de|fault:assert",
     0, 0, "kernel, init"},
    {"bench", CMDLINE_LIST, "ipc|boot", 0, 0, "init"},
    {"benchunit", CMDLINE_TEXT, NULL, 1, 23, "init"},
    {"fuzzseed", CMDLINE_NUMBER, NULL, 0, UINT64_MAX, "init"},
    {"fuzzcalls", CMDLINE_NUMBER, NULL, 1, UINT64_MAX, "init"},
    {"fuzztrace", CMDLINE_NUMBER, NULL, 0, UINT64_MAX, "init"},
    {"fuzzavoid", CMDLINE_CHOICE, "known|pager", 0, 0, "init"},
    {"fuzzrepro", CMDLINE_NUMBER, NULL, 1, 3, "init"},
    {"mdbops", CMDLINE_NUMBER, NULL, 0, UINT64_MAX, "init"},
};
const size_t cmdline_nwords = sizeof cmdline_words / sizeof cmdline_words[0];

bool cmdline_next(const char *line, size_t *pos, const char **word, size_t *len)
{
    size_t i = *pos;
    while (line[i] == ' ' || line[i] == '\t')
        i++;
    if (line[i] == '\0')
        return false;
    size_t j = i;
    while (line[j] != '\0' && line[j] != ' ' && line[j] != '\t')
        j++;
    *word = line + i;
    *len = j - i;
    *pos = j;
    return true;
}

/* True when v[0..n) is one of the '|'-separated values of set. */
static bool one_of(const char *set, const char *v, size_t n)
{
    for (const char *p = set;;) {
        const char *e = p;
        while (*e != '\0' && *e != '|')
            e++;
        if ((size_t)(e - p) == n && __builtin_memcmp(p, v, n) == 0)
            return true;
        if (*e == '\0')
            return false;
        p = e + 1;
    }
}

/* The entry whose key is k[0..n), or NULL. */
static const struct cmdline_word *lookup(const char *k, size_t n)
{
    for (size_t i = 0; i < cmdline_nwords; i++)
        if (str_nlen(cmdline_words[i].key, n + 1) == n && __builtin_memcmp(cmdline_words[i].key, k, n) == 0)
            return &cmdline_words[i];
    return NULL;
}

/* Check value v[0..n) against e; on failure, the bad part in *bad. */
static bool value_ok(const struct cmdline_word *e, const char *v, size_t n, const char **bad, size_t *bad_len)
{
    uint64_t x;
    *bad = v;
    *bad_len = n;
    switch (e->kind) {
    case CMDLINE_CHOICE:
        return one_of(e->values, v, n);
    case CMDLINE_NUMBER:
        return str_parse_u64(v, n, &x) && x >= e->min && x <= e->max;
    case CMDLINE_TEXT:
        return n >= e->min && n <= e->max;
    case CMDLINE_LIST:
        if (n == 0)
            return false;
        for (size_t i = 0; i <= n;) {
            size_t j = i;
            while (j < n && v[j] != ',')
                j++;
            if (!one_of(e->values, v + i, j - i)) {
                *bad = v + i;
                *bad_len = j - i;
                return false;
            }
            i = j + 1;
        }
        return true;
    }
    return false;
}

enum cmdline_verdict cmdline_check(const char *line, const char *word, size_t len,
                                   const struct cmdline_word **entry, const char **bad, size_t *bad_len)
{
    size_t k = 0;
    while (k < len && word[k] != '=')
        k++;
    *entry = k < len ? lookup(word, k) : NULL;
    if (*entry == NULL)
        return CMDLINE_UNKNOWN;
    /* The readers take the first key= of the line: a later one is ignored. */
    size_t pos = 0, n;
    const char *w;
    while (cmdline_next(line, &pos, &w, &n) && w < word)
        if (n > k && w[k] == '=' && __builtin_memcmp(w, word, k) == 0)
            return CMDLINE_TWICE;
    return value_ok(*entry, word + k + 1, len - k - 1, bad, bad_len) ? CMDLINE_OK : CMDLINE_BAD_VALUE;
}

void cmdline_describe(const struct cmdline_word *e, char *out, size_t n)
{
    switch (e->kind) {
    case CMDLINE_CHOICE:
        fmt_snprintf(out, n, "one of %s", e->values);
        break;
    case CMDLINE_LIST:
        fmt_snprintf(out, n, "a comma-separated list of %s", e->values);
        break;
    case CMDLINE_NUMBER:
        fmt_snprintf(out, n, "a number from %llu to %llu", (unsigned long long)e->min,
                     (unsigned long long)e->max);
        break;
    case CMDLINE_TEXT:
        fmt_snprintf(out, n, "text of %llu to %llu bytes", (unsigned long long)e->min,
                     (unsigned long long)e->max);
        break;
    }
}
