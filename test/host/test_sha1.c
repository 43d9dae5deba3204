/* Host tests for libbase/sha1.c: the published FIPS 180 / RFC 3174 vectors,
 * every way of splitting one input between updates, lengths around the
 * padding boundaries, the hex helpers, and agreement with the system's
 * sha1sum on random inputs.  Inputs live in heap blocks of exactly their
 * size, so AddressSanitizer reports any read past the end. */
#define _POSIX_C_SOURCE 200809L /* popen, mkstemp, fdopen: the Makefile builds with plain -std=c11 */

#include "test/host/check.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/sha1.h"

#define SPLIT_LEN 200
#define RANDOM_BUFFERS 50
#define RANDOM_MAX 10000

/* ---- helpers --------------------------------------------------------------- */

/* True when digest is the 40 hex digits want; prints both when not. */
static bool digest_is(const uint8_t digest[SHA1_DIGEST_SIZE], const char *want)
{
    char got[41];
    sha1_hex(digest, got);
    if (strcmp(got, want) == 0)
        return true;
    printf("#   got  %s\n#   want %s\n", got, want);
    return false;
}

/* A heap copy of the len bytes at src, in a block of exactly len bytes. */
static uint8_t *heap_copy(const void *src, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (p == NULL)
        abort();
    if (len)
        memcpy(p, src, len);
    return p;
}

/* A heap block of exactly len bytes holding the fixed pattern (i * 167 + 13). */
static uint8_t *pattern(size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (p == NULL)
        abort();
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 167 + 13);
    return p;
}

/* Digest of data[0..len) fed to sha1_update one byte per call. */
static void sha1_bytewise(const uint8_t *data, size_t len, uint8_t digest[SHA1_DIGEST_SIZE])
{
    struct sha1_ctx c;
    sha1_init(&c);
    for (size_t i = 0; i < len; i++)
        sha1_update(&c, data + i, 1);
    sha1_final(&c, digest);
}

static uint64_t rng_state = 0x6d696361u; /* "mica": a fixed seed */

/* Next value of a xorshift64 generator: the same random inputs on every run. */
static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---- published vectors ------------------------------------------------------ */

/* True when the one-shot digest of the string s is want. */
static bool string_is(const char *s, const char *want)
{
    size_t len = strlen(s);
    uint8_t *copy = heap_copy(s, len), digest[SHA1_DIGEST_SIZE];
    sha1(copy, len, digest);
    free(copy);
    return digest_is(digest, want);
}

/* One million 'a' through updates of irregular sizes; true when it matches. */
static bool million_a_chunked(void)
{
    static const size_t sizes[] = {1, 63, 64, 65, 1000, 4096, 7, 127, 128, 129, 55, 56};
    const size_t total = 1000000, max_chunk = 4096;
    uint8_t *a = malloc(max_chunk), digest[SHA1_DIGEST_SIZE];
    struct sha1_ctx c;

    if (a == NULL)
        abort();
    memset(a, 'a', max_chunk);
    sha1_init(&c);
    for (size_t done = 0, i = 0; done < total; i++) {
        size_t n = sizes[i % (sizeof sizes / sizeof sizes[0])];
        n = n < total - done ? n : total - done;
        sha1_update(&c, a, n);
        done += n;
    }
    sha1_final(&c, digest);
    free(a);
    return digest_is(digest, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

/* The FIPS 180 / RFC 3174 messages, and an empty update from NULL. */
static void test_vectors(void)
{
    CHECK(string_is("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"));
    CHECK(string_is("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"));
    CHECK(string_is("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                    "84983e441c3bd26ebaae4aa1f95129e5e54670f1"));
    CHECK(string_is("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                    "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                    "a49b2446a02c645bf419f995b67091253a04a259"));
    CHECK(million_a_chunked());

    /* A NULL pointer with no bytes is a valid empty update. */
    struct sha1_ctx c;
    uint8_t digest[SHA1_DIGEST_SIZE];
    sha1_init(&c);
    sha1_update(&c, NULL, 0);
    sha1_final(&c, digest);
    CHECK(digest_is(digest, "da39a3ee5e6b4b0d3255bfef95601890afd80709"));
}

/* ---- splitting one input between updates ---------------------------------- */

/* Number of offsets i in 0..len for which update(data, i) then update(rest)
 * disagrees with want. */
static unsigned bad_two_way_splits(const uint8_t *data, size_t len, const uint8_t want[SHA1_DIGEST_SIZE])
{
    unsigned bad = 0;
    for (size_t i = 0; i <= len; i++) {
        struct sha1_ctx c;
        uint8_t digest[SHA1_DIGEST_SIZE];
        sha1_init(&c);
        sha1_update(&c, data, i);
        sha1_update(&c, data + i, len - i);
        sha1_final(&c, digest);
        if (memcmp(digest, want, SHA1_DIGEST_SIZE) != 0) {
            printf("#   two-way split at %zu differs\n", i);
            bad++;
        }
    }
    return bad;
}

/* Number of pairs i <= j for which three updates split at i and j disagree
 * with want. */
static unsigned bad_three_way_splits(const uint8_t *data, size_t len, const uint8_t want[SHA1_DIGEST_SIZE])
{
    unsigned bad = 0;
    for (size_t i = 0; i <= len; i++) {
        for (size_t j = i; j <= len; j++) {
            struct sha1_ctx c;
            uint8_t digest[SHA1_DIGEST_SIZE];
            sha1_init(&c);
            sha1_update(&c, data, i);
            sha1_update(&c, data + i, j - i);
            sha1_update(&c, data + j, len - j);
            sha1_final(&c, digest);
            if (memcmp(digest, want, SHA1_DIGEST_SIZE) != 0 && bad++ < 5)
                printf("#   three-way split at %zu, %zu differs\n", i, j);
        }
    }
    return bad;
}

/* Number of start offsets 1..7 within a larger block at which hashing a
 * copy of data gives a digest other than want. */
static unsigned bad_misaligned(const uint8_t *data, size_t len, const uint8_t want[SHA1_DIGEST_SIZE])
{
    unsigned bad = 0;
    for (size_t off = 1; off < 8; off++) {
        uint8_t *block = malloc(off + len), digest[SHA1_DIGEST_SIZE];
        if (block == NULL)
            abort();
        memcpy(block + off, data, len);
        sha1(block + off, len, digest);
        if (memcmp(digest, want, SHA1_DIGEST_SIZE) != 0) {
            printf("#   input at offset %zu differs\n", off);
            bad++;
        }
        free(block);
    }
    return bad;
}

/* One 200-byte input fed in every possible split, byte by byte and misaligned. */
static void test_splits(void)
{
    uint8_t *data = pattern(SPLIT_LEN), want[SHA1_DIGEST_SIZE], digest[SHA1_DIGEST_SIZE];

    sha1(data, SPLIT_LEN, want);
    CHECK(digest_is(want, "5226efcec2c9809bbd4e422a1a0e940306246169"));
    CHECK_EQ_U64(bad_two_way_splits(data, SPLIT_LEN, want), 0);
    CHECK_EQ_U64(bad_three_way_splits(data, SPLIT_LEN, want), 0);
    sha1_bytewise(data, SPLIT_LEN, digest);
    CHECK(memcmp(digest, want, SHA1_DIGEST_SIZE) == 0);
    CHECK_EQ_U64(bad_misaligned(data, SPLIT_LEN, want), 0);
    free(data);
}

/* ---- lengths around the padding boundaries --------------------------------- */

/* True when pattern(len) hashes to want both in one call and byte by byte. */
static bool pattern_is(size_t len, const char *want)
{
    uint8_t *data = pattern(len), one[SHA1_DIGEST_SIZE], bytewise[SHA1_DIGEST_SIZE];
    sha1(data, len, one);
    sha1_bytewise(data, len, bytewise);
    free(data);
    if (!digest_is(one, want))
        return false;
    return digest_is(bytewise, want);
}

/* Lengths on either side of the padding and block boundaries. */
static void test_boundaries(void)
{
    /* 55 is the longest tail that takes its padding in one block, 56..63 need a
     * second, 64 and 128 are whole blocks.  Digests from sha1sum and Python's
     * hashlib on the same pattern. */
    CHECK(pattern_is(55, "f223d32a2821747cda0c953869fd4e80cca94476"));
    CHECK(pattern_is(56, "a4e4673ac7e9635f02f2290c408782276f2b74f3"));
    CHECK(pattern_is(63, "a2659af75500214170228bc208373a7fa71187db"));
    CHECK(pattern_is(64, "03876d2bfc87786e413d3db303deb59e5eb0e44a"));
    CHECK(pattern_is(65, "cc2db95e81ddadc0da1832c505d12f06b2a81582"));
    CHECK(pattern_is(119, "8aec39954938bf6253cf65927542e1018e4b53e7"));
    CHECK(pattern_is(120, "04e6fb9a58832afb30aaa51a8e30ee17316de414"));
    CHECK(pattern_is(127, "ed31e9f2976bb919fce07a4e7db6051bb90711e9"));
    CHECK(pattern_is(128, "947f065ae440d3b4d479a77442e8841b94f9a22d"));
}

/* ---- context reuse ---------------------------------------------------------- */

/* A context after sha1_final starts a fresh message. */
static void test_reuse(void)
{
    struct sha1_ctx c;
    uint8_t digest[SHA1_DIGEST_SIZE];

    /* sha1_final leaves the context ready for a new message. */
    sha1_init(&c);
    sha1_update(&c, "not this one", 12);
    sha1_final(&c, digest);
    sha1_update(&c, "abc", 3);
    sha1_final(&c, digest);
    CHECK(digest_is(digest, "a9993e364706816aba3e25717850c26c9cd0d89d"));
    sha1_final(&c, digest);
    CHECK(digest_is(digest, "da39a3ee5e6b4b0d3255bfef95601890afd80709"));
}

/* ---- hex helpers ------------------------------------------------------------ */

/* True when sha1_parse_hex rejects s[0..len) and leaves the digest alone. */
static bool rejected(const char *s, size_t len)
{
    uint8_t digest[SHA1_DIGEST_SIZE], before[SHA1_DIGEST_SIZE];
    char *copy = (char *)heap_copy(s, len);
    memset(digest, 0x5a, sizeof digest);
    memcpy(before, digest, sizeof digest);
    bool ok = !sha1_parse_hex(copy, len, digest) && memcmp(digest, before, sizeof digest) == 0;
    free(copy);
    return ok;
}

/* True when every digest with bytes start, start+1, ... survives hex and back. */
static bool hex_round_trips(unsigned start)
{
    uint8_t digest[SHA1_DIGEST_SIZE], back[SHA1_DIGEST_SIZE];
    char hex[41];
    for (unsigned i = 0; i < SHA1_DIGEST_SIZE; i++)
        digest[i] = (uint8_t)(start + i);
    sha1_hex(digest, hex);
    if (strlen(hex) != 40)
        return false;
    for (unsigned i = 0; i < 40; i++)
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
            return false;
    char *copy = (char *)heap_copy(hex, 40); /* no NUL: parse must stop at len */
    bool ok = sha1_parse_hex(copy, 40, back) && memcmp(digest, back, sizeof digest) == 0;
    free(copy);
    return ok;
}

/* Number of (position, character) pairs, a non-hex character put into a
 * valid string at one of several positions, that sha1_parse_hex accepts. */
static unsigned accepted_bad_chars(void)
{
    static const char bad[] = {'g', 'G', 'x',  'z',  ' ', '/', ':',        '@',       '[',
                               '`', '{', '\0', '\n', '-', '+', (char)0x80, (char)0xff};
    static const size_t where[] = {0, 1, 2, 19, 20, 38, 39};
    unsigned accepted = 0;
    for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
        for (size_t b = 0; b < sizeof bad; b++) {
            char s[40];
            memcpy(s, "0123456789abcdefABCDEF0123456789abcdefAB", 40);
            s[where[w]] = bad[b];
            if (!rejected(s, 40) && accepted++ < 5)
                printf("#   accepted 0x%02x at %zu\n", (unsigned)(unsigned char)bad[b], where[w]);
        }
    }
    return accepted;
}

/* sha1_hex and sha1_parse_hex: round trips, both cases, every rejection. */
static void test_hex(void)
{
    static const char abc[] = "a9993e364706816aba3e25717850c26c9cd0d89d";
    static const char abc_upper[] = "A9993E364706816ABA3E25717850C26C9CD0D89D";
    uint8_t digest[SHA1_DIGEST_SIZE], parsed[SHA1_DIGEST_SIZE];
    char hex[41];

    sha1("abc", 3, digest);
    memset(hex, '#', sizeof hex);
    sha1_hex(digest, hex);
    CHECK(memcmp(hex, abc, sizeof abc) == 0); /* includes the NUL */
    CHECK(sha1_parse_hex(abc, 40, parsed) && memcmp(parsed, digest, sizeof digest) == 0);
    memset(parsed, 0, sizeof parsed);
    CHECK(sha1_parse_hex(abc_upper, 40, parsed) && memcmp(parsed, digest, sizeof digest) == 0);
    memset(parsed, 0, sizeof parsed);
    CHECK(sha1_parse_hex("A9993e364706816ABA3E25717850c26c9cd0d89D", 40, parsed) &&
          memcmp(parsed, digest, sizeof digest) == 0);

    bool all = true;
    for (unsigned start = 0; start < 256; start++)
        all = all && hex_round_trips(start);
    CHECK(all);

    CHECK(rejected(abc, 39));
    CHECK(rejected("a9993e364706816aba3e25717850c26c9cd0d89d0", 41));
    CHECK(rejected(abc, 0));
    CHECK(rejected(abc, 38));
    CHECK(rejected("a9993e364706816aba3e25717850c26c9cd0d89d00", 42));
    CHECK(rejected("0xa9993e364706816aba3e25717850c26c9cd0d8", 40));
    CHECK(rejected(" a9993e364706816aba3e25717850c26c9cd0d89", 40));
    CHECK_EQ_U64(accepted_bad_chars(), 0);

    /* A longer string is fine when only its first 40 characters are given. */
    memset(parsed, 0, sizeof parsed);
    CHECK(sha1_parse_hex("a9993e364706816aba3e25717850c26c9cd0d89dzz", 40, parsed) &&
          memcmp(parsed, digest, sizeof digest) == 0);
}

/* ---- agreement with the system's sha1sum ---------------------------------- */

/* Run sha1sum on the len bytes at data (through a temporary file) and store
 * its 40 hex digits and a NUL in out; false when that fails. */
static bool system_sha1sum(const uint8_t *data, size_t len, char out[41])
{
    const char *dir = getenv("TMPDIR");
    char path[512], cmd[600], line[256];
    bool ok = false;

    if (dir == NULL || dir[0] == '\0' || strchr(dir, '\'') != NULL)
        dir = "/tmp";
    snprintf(path, sizeof path, "%s/mica_sha1_XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        printf("#   mkstemp %s failed\n", path);
        return false;
    }
    FILE *f = fdopen(fd, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        printf("#   writing %s failed\n", path);
        unlink(path);
        return false;
    }
    snprintf(cmd, sizeof cmd, "sha1sum < '%s'", path);
    FILE *p = popen(cmd, "r");
    if (p != NULL) {
        ok = fgets(line, sizeof line, p) != NULL && strlen(line) >= 40;
        ok = pclose(p) == 0 && ok;
    }
    unlink(path);
    if (!ok) {
        printf("#   running sha1sum failed\n");
        return false;
    }
    memcpy(out, line, 40);
    out[40] = '\0';
    return true;
}

/* Digest of data[0..len) fed to sha1_update in random-sized pieces. */
static void sha1_random_pieces(const uint8_t *data, size_t len, uint8_t digest[SHA1_DIGEST_SIZE])
{
    struct sha1_ctx c;
    sha1_init(&c);
    for (size_t done = 0; done < len;) {
        size_t n = (size_t)(rng_next() % 300);
        n = n < len - done ? n : len - done;
        sha1_update(&c, data + done, n);
        done += n;
    }
    sha1_final(&c, digest);
}

/* True when a random buffer of random size hashes, in one call and in
 * random pieces, to what sha1sum says. */
static bool same_as_sha1sum(void)
{
    size_t len = (size_t)(rng_next() % (RANDOM_MAX + 1));
    uint8_t *data = malloc(len ? len : 1), one[SHA1_DIGEST_SIZE], pieces[SHA1_DIGEST_SIZE];
    char want[41];
    bool ok = false;

    if (data == NULL)
        abort();
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(rng_next() >> 56);
    sha1(data, len, one);
    sha1_random_pieces(data, len, pieces);
    if (system_sha1sum(data, len, want)) {
        ok = digest_is(one, want) && digest_is(pieces, want);
        if (!ok)
            printf("#   (%zu bytes)\n", len);
    }
    free(data);
    return ok;
}

/* Random inputs of random sizes against the system's sha1sum. */
static void test_sha1sum(void)
{
    for (int i = 0; i < RANDOM_BUFFERS; i++)
        CHECK(same_as_sha1sum());
}

int main(void)
{
    test_vectors();
    test_splits();
    test_boundaries();
    test_reuse();
    test_hex();
    test_sha1sum();
    return check_done();
}
