/* Module lines: `module2 FILE NAME [OPTION=VALUE ...]` (docs/init.md).
 * Every option is checked before anything is started: an unknown option,
 * a value out of range or a key given twice refuses the module with one
 * [FAIL] line that names the module and the option, rather than starting
 * it with a default the line did not ask for.  Init's and the pager's own
 * lines accept only the options that apply to them: sha1=, and kmem= for
 * the pager.  Words after `--` are the server's own arguments, not init's
 * options. */
#include "base/sha1.h"
#include "base/str.h"
#include "init.h"

#define SERVER_PRIO 40
#define DEFAULT_QUOTA (64ull << 20 >> 12) /* 64 MiB of demand-zero memory */
#define DEFAULT_LIMIT 3
#define DEFAULT_WINDOW_S 10
/* Kernel memory (docs/init.md): a server's default quota, the pager's, and
 * what init keeps for itself and for restarts (an eighth of its own quota,
 * at least KMEM_RESERVE_MIN pages). */
#define DEFAULT_KMEM 128u
#define PAGER_KMEM 256u
#define KMEM_RESERVE_MIN 128u
#define KMEM_MAX (1ull << 20)

/* The kinds from OPT_LIMIT on are numbers in [min, max]. */
enum opt_kind { OPT_RESTART, OPT_SHA1, OPT_LIMIT, OPT_WINDOW, OPT_PRIO, OPT_QUOTA, OPT_ARG, OPT_KMEM };

/* Which lines take an option: bit (1 << enum module_role). */
#define ON_SERVER (1u << MODULE_SERVER)
#define ON_ALL (ON_SERVER | (1u << MODULE_INIT) | (1u << MODULE_PAGER))

static const struct option {
    const char *key;
    enum opt_kind kind;
    uint64_t min, max; /* the numbers */
    unsigned roles;    /* the lines that take it */
} options[] = {
    {"restart", OPT_RESTART, 0, 0, ON_SERVER},
    /* A server keeps the times of its last 8 ends: a larger limit could
     * never be reached. */
    {"limit", OPT_LIMIT, 0, 8, ON_SERVER},
    {"window", OPT_WINDOW, 1, 86400, ON_SERVER},
    {"sha1", OPT_SHA1, 0, 0, ON_ALL},
    /* Below the pager (62) and init (63), which must never be starved. */
    {"prio", OPT_PRIO, 0, 61, ON_SERVER},
    {"quota", OPT_QUOTA, 1, 1ull << 32, ON_SERVER},
    {"arg", OPT_ARG, 0, UINT64_MAX, ON_SERVER},
    /* Init's own quota is the whole pool: it is the root others come from. */
    {"kmem", OPT_KMEM, MICA_KMEM_TASK_MIN, KMEM_MAX, ON_SERVER | (1u << MODULE_PAGER)},
};
#define NOPTIONS (sizeof options / sizeof options[0])

static const char *const only_sha1[] = {[MODULE_SERVER] = "",
                                        [MODULE_INIT] = " is for servers (init takes only sha1=)",
                                        [MODULE_PAGER] =
                                            " is for servers (the pager takes only sha1= and kmem=)"};

/* The option whose key is k[0..n), or NULL. */
static const struct option *option_find(const char *k, size_t n)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (str_nlen(options[i].key, n + 1) == n && __builtin_memcmp(options[i].key, k, n) == 0)
            return &options[i];
    return NULL;
}

/* Store value v[0..n) of option o in s; false (after a [FAIL] line) when
 * the value is not one o accepts. */
static bool option_set(struct server *s, const struct option *o, const char *v, size_t n)
{
    uint64_t x = 0;
    switch (o->kind) {
    case OPT_RESTART:
        if (n == 5 && __builtin_memcmp(v, "never", 5) == 0)
            s->restart = RESTART_NEVER;
        else if (n == 10 && __builtin_memcmp(v, "on-failure", 10) == 0)
            s->restart = RESTART_ON_FAILURE;
        else if (n == 6 && __builtin_memcmp(v, "always", 6) == 0)
            s->restart = RESTART_ALWAYS;
        else
            break;
        return true;
    case OPT_SHA1:
        if (!sha1_parse_hex(v, n, s->sha1))
            break;
        s->sha1_given = 1;
        return true;
    default:
        if (!str_parse_u64(v, n, &x) || x < o->min || x > o->max)
            break;
        if (o->kind == OPT_LIMIT)
            s->limit = (unsigned)x;
        else if (o->kind == OPT_WINDOW)
            s->window_us = x * 1000000;
        else if (o->kind == OPT_PRIO)
            s->prio = (int)x;
        else if (o->kind == OPT_QUOTA)
            s->quota = x;
        else if (o->kind == OPT_KMEM)
            s->kmem = x;
        else
            s->arg = x;
        return true;
    }
    static const char *const wants[] = {
        [OPT_RESTART] = "never, on-failure or always", [OPT_SHA1] = "40 hex digits"};
    if (o->kind >= OPT_LIMIT)
        mica_printf("[FAIL] init: module \"%s\": %s=%.*s: not a number from %llu to %llu; not started\n",
                    s->name, o->key, (int)n, v, (unsigned long long)o->min, (unsigned long long)o->max);
    else
        mica_printf("[FAIL] init: module \"%s\": %s=%.*s: not %s; not started\n", s->name, o->key, (int)n, v,
                    wants[o->kind]);
    return false;
}

/* The name (first word) of line into s->name; false if empty or too long. */
static bool read_name(struct server *s, const char *line, size_t *end)
{
    size_t n = 0;
    while (line[n] != '\0' && line[n] != ' ')
        n++;
    *end = n;
    if (n == 0 || n >= sizeof s->name) {
        mica_printf("[FAIL] init: module line \"%s\": the first word must be a name of 1 to %u bytes; not "
                    "started\n",
                    line, (unsigned)(sizeof s->name - 1));
        return false;
    }
    __builtin_memcpy(s->name, line, n);
    s->name[n] = '\0';
    return true;
}

bool module_parse(struct server *s, const struct mica_bootinfo_module *mod, enum module_role role)
{
    const char *line = mod->cmdline;
    size_t pos;
    *s = (struct server){.mod = mod,
                         .restart = RESTART_NEVER,
                         .limit = DEFAULT_LIMIT,
                         .window_us = DEFAULT_WINDOW_S * 1000000ull,
                         .prio = SERVER_PRIO,
                         .quota = DEFAULT_QUOTA,
                         .kmem = role == MODULE_PAGER ? PAGER_KMEM : DEFAULT_KMEM,
                         .arg = UINT64_MAX};
    if (!read_name(s, line, &pos))
        return false;
    unsigned seen = 0; /* bit i: options[i] came already */
    while (line[pos] != '\0') {
        while (line[pos] == ' ')
            pos++;
        size_t w = pos, k = pos;
        while (line[pos] != '\0' && line[pos] != ' ')
            pos++;
        while (k < pos && line[k] != '=')
            k++;
        if (w == pos)
            break;
        if (pos - w == 2 && line[w] == '-' && line[w + 1] == '-' && role == MODULE_SERVER) {
            /* The rest of the line is the server's own (its start-up record's argv). */
            while (line[pos] == ' ')
                pos++;
            s->args = line + pos;
            break;
        }
        const struct option *o = k < pos ? option_find(line + w, k - w) : NULL;
        int extra = -1; /* the test image's own options (init.h) */
        if (o == NULL && k < pos && role == MODULE_SERVER && &init_test_hooks != NULL)
            extra = init_test_hooks.module_option(s, line + w, k - w, line + k + 1, pos - k - 1);
        if (extra == 0)
            return false;
        if (extra == 1)
            continue;
        const char *before = o == NULL ? "unknown option" : "option", *after = "";
        if (o != NULL && ((seen >> (o - options)) & 1))
            after = " given twice";
        else if (o != NULL && !(o->roles & (1u << role)))
            after = only_sha1[role];
        if (o == NULL || after[0] != '\0') {
            mica_printf("[FAIL] init: module \"%s\": %s \"%.*s\"%s; not started\n", s->name, before,
                        (int)(pos - w), line + w, after);
            return false;
        }
        seen |= 1u << (o - options);
        if (!option_set(s, o, line + k + 1, pos - k - 1))
            return false;
    }
    return true;
}

bool module_check_integrity(const struct server *s)
{
    uint8_t digest[SHA1_DIGEST_SIZE];
    char hex[41], want[41];
    sha1((const void *)(uintptr_t)s->mod->vaddr, s->mod->size, digest);
    sha1_hex(digest, hex);
    mica_printf("[INFO] init: module \"%s\" sha1=%s (%llu bytes)\n", s->name, hex,
                (unsigned long long)s->mod->size);
    if (s->sha1_given && __builtin_memcmp(digest, s->sha1, SHA1_DIGEST_SIZE) != 0) {
        sha1_hex(s->sha1, want);
        mica_printf("[FAIL] init: module \"%s\" refused: sha1 mismatch (expected %s, got %s)\n", s->name,
                    want, hex);
        return false;
    }
    return true;
}

/* Pages of kernel memory init keeps for itself and for restarts. */
static uint64_t kmem_reserve(const struct mica_kmem *k)
{
    return k->limit / 8 > KMEM_RESERVE_MIN ? k->limit / 8 : KMEM_RESERVE_MIN;
}

bool module_kmem_fits(const struct server *s)
{
    struct mica_kmem k;
    if (s->starts > 0 || mica_kmem_info(0, &k) != MICA_OK)
        return true; /* a restart may use the reserve: that is what it is for */
    uint64_t room = k.limit - k.used, keep = kmem_reserve(&k);
    if (room >= keep && room - keep >= s->kmem)
        return true;
    mica_printf(
        "[FAIL] init: module \"%s\": kmem=%llu: init has %llu pages of kernel memory left and keeps %llu "
        "for restarts; not started\n",
        s->name, (unsigned long long)s->kmem, (unsigned long long)room, (unsigned long long)keep);
    return false;
}

void module_kmem_report(void)
{
    struct mica_kmem k;
    if (mica_kmem_info(0, &k) != MICA_OK)
        return;
    mica_printf("[INFO] init: kernel memory: %llu pages given to the tasks it started, %llu used by init, "
                "%llu of %llu free (%llu kept for restarts)\n",
                (unsigned long long)k.given, (unsigned long long)(k.used - k.given),
                (unsigned long long)(k.limit - k.used), (unsigned long long)k.limit,
                (unsigned long long)kmem_reserve(&k));
}
