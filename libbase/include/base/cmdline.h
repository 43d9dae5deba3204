/* The kernel command line: every word the kernel and init read, in one
 * table, and the check of a line against it.  docs/boot.md lists the same
 * words (the harness compares the two), so a word cannot be read in the
 * code without being documented and checked. */
#ifndef BASE_CMDLINE_H
#define BASE_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cmdline_kind {
    CMDLINE_CHOICE, /* one of values */
    CMDLINE_LIST,   /* one or more of values, comma-separated */
    CMDLINE_NUMBER, /* a number (decimal or 0x hex) in [min, max] */
    CMDLINE_TEXT,   /* any text of 1..max bytes */
};

struct cmdline_word {
    const char *key; /* the word is key=value */
    enum cmdline_kind kind;
    const char *values; /* CHOICE, LIST: the accepted values, '|'-separated */
    uint64_t min, max;  /* NUMBER: the range; TEXT: max is the longest value */
    const char *reader; /* "kernel" or "init": who acts on it */
};

extern const struct cmdline_word cmdline_words[];
extern const size_t cmdline_nwords;

enum cmdline_verdict {
    CMDLINE_OK,
    CMDLINE_UNKNOWN,   /* no such key, or no '=' */
    CMDLINE_BAD_VALUE, /* the value (or the item *bad of a list) is not accepted */
    CMDLINE_TWICE,     /* the key came earlier in the line: only the first counts */
};

/* The next word of line at or after *pos (words are separated by spaces
 * and tabs): true with the word in *word / *len and *pos past it, false at
 * the end of the line. */
bool cmdline_next(const char *line, size_t *pos, const char **word, size_t *len);

/* Check the word at word[0..len), which lies inside line (earlier words
 * are looked at to find a repeated key): the verdict, the table entry
 * (NULL when unknown) and, for CMDLINE_BAD_VALUE, the offending value or
 * list item in *bad / *bad_len. */
enum cmdline_verdict cmdline_check(const char *line, const char *word, size_t len,
                                   const struct cmdline_word **entry, const char **bad, size_t *bad_len);

/* A short human description of what entry accepts, written to out
 * ("one of 4", "a number from 100 to 50000", ...). */
void cmdline_describe(const struct cmdline_word *entry, char *out, size_t n);

#endif
