/* String helpers for freestanding code.  Names carry a str_ prefix so that
 * host unit tests can link them next to the C library. */
#ifndef BASE_STR_H
#define BASE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of s, but at most max bytes are examined. */
size_t str_nlen(const char *s, size_t max);

/* True when a and b are equal strings. */
bool str_eq(const char *a, const char *b);

/* Find the value of `key=` among the space-separated words of `line`.
 * On success store a pointer to the value and its length (up to the next
 * space or the end) and return true.  `key` alone (no '=') is not a match. */
bool str_word_value(const char *line, const char *key, const char **val, size_t *len);

/* True when the space-separated word `word` occurs in `line`. */
bool str_has_word(const char *line, const char *word);

/* Parse an unsigned number (decimal, or hex with 0x) of exactly len chars. */
bool str_parse_u64(const char *s, size_t len, uint64_t *out);

#endif
