/* SHA-1 (FIPS 180-4) for freestanding code: init checks the modules it
 * loads against digests given on the command line.  SHA-1 is no longer
 * collision resistant; here it only catches damaged or mixed-up modules,
 * not a deliberate forgery.  Input is read byte by byte, so any alignment
 * is fine; no floating point, no libc.  Names carry a sha1_ prefix so that
 * host unit tests can link them next to the C library. */
#ifndef BASE_SHA1_H
#define BASE_SHA1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_SIZE 20

/* A hash in progress; owned by its caller, no locking.  h is the chaining
 * value, length the number of message bytes taken so far, block[0..fill)
 * the bytes of the block not yet compressed (fill < 64 between calls). */
struct sha1_ctx {
    uint32_t h[5];
    uint64_t length;
    uint8_t block[64];
    size_t fill;
};

/* Start a new hash in c. */
void sha1_init(struct sha1_ctx *c);

/* Append len bytes at data to the message; data may be NULL when len is 0. */
void sha1_update(struct sha1_ctx *c, const void *data, size_t len);

/* Finish the message, store its digest, and leave c as sha1_init does. */
void sha1_final(struct sha1_ctx *c, uint8_t digest[SHA1_DIGEST_SIZE]);

/* Digest of the len bytes at data, in one call. */
void sha1(const void *data, size_t len, uint8_t digest[SHA1_DIGEST_SIZE]);

/* Write digest as 40 lowercase hex digits and a NUL into out. */
void sha1_hex(const uint8_t digest[SHA1_DIGEST_SIZE], char out[41]);

/* Parse exactly 40 hex digits (either case) from s[0..len) into digest.
 * Any other length or character returns false and leaves digest unchanged;
 * s need not be NUL-terminated and no byte past s[len) is read. */
bool sha1_parse_hex(const char *s, size_t len, uint8_t digest[SHA1_DIGEST_SIZE]);

#endif
