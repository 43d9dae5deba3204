/* SHA-1 as specified in FIPS 180-4, section 6.1; see include/base/sha1.h.
 * The message schedule is kept as a ring of 16 words rather than 80, so a
 * compression needs 64 bytes of stack (kernel and server stacks are small). */
#include "base/sha1.h"

/* x rotated left by n bits, 0 < n < 32. */
static uint32_t sha1_rol(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

/* The big-endian 32-bit word at p (any alignment). */
static uint32_t sha1_load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Store v big-endian at p (any alignment). */
static void sha1_store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The logical function f_t(b, c, d) of round t (0..79) plus its constant K_t:
 * Ch for rounds 0-19, Parity for 20-39 and 60-79, Maj for 40-59. */
static uint32_t sha1_f_plus_k(unsigned t, uint32_t b, uint32_t c, uint32_t d)
{
    if (t < 20)
        return ((b & c) | (~b & d)) + 0x5a827999u;
    if (t < 40)
        return (b ^ c ^ d) + 0x6ed9eba1u;
    if (t < 60)
        return ((b & c) | (b & d) | (c & d)) + 0x8f1bbcdcu;
    return (b ^ c ^ d) + 0xca62c1d6u;
}

/* Fold the 64-byte block at p (any alignment) into the chaining value h. */
static void sha1_compress(uint32_t h[5], const uint8_t *p)
{
    uint32_t w[16];
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

    for (unsigned t = 0; t < 16; t++)
        w[t] = sha1_load_be32(p + 4 * t);
    for (unsigned t = 0; t < 80; t++) {
        /* W_t = ROTL1(W_t-3 ^ W_t-8 ^ W_t-14 ^ W_t-16); index t-k is (t + 16 - k) mod 16. */
        if (t >= 16)
            w[t & 15] = sha1_rol(w[(t + 13) & 15] ^ w[(t + 8) & 15] ^ w[(t + 2) & 15] ^ w[t & 15], 1);
        uint32_t tmp = sha1_rol(a, 5) + sha1_f_plus_k(t, b, c, d) + e + w[t & 15];
        e = d;
        d = c;
        c = sha1_rol(b, 30);
        b = a;
        a = tmp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void sha1_init(struct sha1_ctx *c)
{
    c->h[0] = 0x67452301u;
    c->h[1] = 0xefcdab89u;
    c->h[2] = 0x98badcfeu;
    c->h[3] = 0x10325476u;
    c->h[4] = 0xc3d2e1f0u;
    c->length = 0;
    c->fill = 0;
}

void sha1_update(struct sha1_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;

    c->length += len;
    while (len > 0) {
        if (c->fill == 0 && len >= 64) {
            /* A whole block with nothing buffered: hash it in place. */
            sha1_compress(c->h, p);
            p += 64;
            len -= 64;
            continue;
        }
        c->block[c->fill++] = *p++;
        len--;
        if (c->fill == 64) {
            sha1_compress(c->h, c->block);
            c->fill = 0;
        }
    }
}

void sha1_final(struct sha1_ctx *c, uint8_t digest[SHA1_DIGEST_SIZE])
{
    uint64_t bits = c->length * 8;

    /* Padding: one 1 bit, zeros up to 56 mod 64 bytes, the bit length. */
    c->block[c->fill++] = 0x80;
    if (c->fill > 56) {
        while (c->fill < 64)
            c->block[c->fill++] = 0;
        sha1_compress(c->h, c->block);
        c->fill = 0;
    }
    while (c->fill < 56)
        c->block[c->fill++] = 0;
    sha1_store_be32(c->block + 56, (uint32_t)(bits >> 32));
    sha1_store_be32(c->block + 60, (uint32_t)bits);
    sha1_compress(c->h, c->block);
    for (unsigned i = 0; i < 5; i++)
        sha1_store_be32(digest + 4 * i, c->h[i]);
    sha1_init(c);
}

void sha1(const void *data, size_t len, uint8_t digest[SHA1_DIGEST_SIZE])
{
    struct sha1_ctx c;
    sha1_init(&c);
    sha1_update(&c, data, len);
    sha1_final(&c, digest);
}

void sha1_hex(const uint8_t digest[SHA1_DIGEST_SIZE], char out[41])
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < SHA1_DIGEST_SIZE; i++) {
        out[2 * i] = digits[digest[i] >> 4];
        out[2 * i + 1] = digits[digest[i] & 15];
    }
    out[2 * SHA1_DIGEST_SIZE] = '\0';
}

/* The value of hex digit ch (either case), or -1 when ch is not one. */
static int sha1_hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

bool sha1_parse_hex(const char *s, size_t len, uint8_t digest[SHA1_DIGEST_SIZE])
{
    if (len != 2 * SHA1_DIGEST_SIZE)
        return false;
    for (size_t i = 0; i < len; i++)
        if (sha1_hex_value(s[i]) < 0)
            return false;
    for (unsigned i = 0; i < SHA1_DIGEST_SIZE; i++)
        digest[i] = (uint8_t)(sha1_hex_value(s[2 * i]) << 4 | sha1_hex_value(s[2 * i + 1]));
    return true;
}
