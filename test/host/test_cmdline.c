/* Host tests of the command-line table and its check (libbase/cmdline.c). */
#include <string.h>

#include "base/cmdline.h"
#include "check.h"

/* The verdict for word number i (from 0) of line; *bad gets the bad part. */
static enum cmdline_verdict verdict(const char *line, int i, char *bad)
{
    size_t pos = 0, len, blen = 0;
    const char *w, *b = NULL;
    const struct cmdline_word *e;
    for (int k = 0; k <= i; k++)
        if (!cmdline_next(line, &pos, &w, &len))
            return (enum cmdline_verdict) - 1;
    enum cmdline_verdict v = cmdline_check(line, w, len, &e, &b, &blen);
    bad[0] = '\0';
    if (v == CMDLINE_BAD_VALUE) {
        memcpy(bad, b, blen);
        bad[blen] = '\0';
    }
    return v;
}

int main(void)
{
    char bad[64];
    CHECK(verdict("paging=4", 0, bad) == CMDLINE_OK);
    CHECK(verdict("paging=7", 0, bad) == CMDLINE_BAD_VALUE && strcmp(bad, "7") == 0);
    CHECK(verdict("pagng=4", 0, bad) == CMDLINE_UNKNOWN);
    CHECK(verdict("paging", 0, bad) == CMDLINE_UNKNOWN);
    CHECK(verdict("timer=foo", 0, bad) == CMDLINE_BAD_VALUE && strcmp(bad, "foo") == 0);
    CHECK(verdict("timer=pit", 0, bad) == CMDLINE_OK);
    CHECK(verdict("timer_hz=20000", 0, bad) == CMDLINE_OK);
    CHECK(verdict("timer_hz=99", 0, bad) == CMDLINE_BAD_VALUE);
    CHECK(verdict("timer_hz=50001", 0, bad) == CMDLINE_BAD_VALUE);
    CHECK(verdict("timer_hz=0x100", 0, bad) == CMDLINE_OK);
    CHECK(verdict("test=ipc,pager", 0, bad) == CMDLINE_OK);
    CHECK(verdict("test=ipc,nonexistent", 0, bad) == CMDLINE_BAD_VALUE && strcmp(bad, "nonexistent") == 0);
    CHECK(verdict("test=", 0, bad) == CMDLINE_BAD_VALUE);
    CHECK(verdict("test=ipc,", 0, bad) == CMDLINE_BAD_VALUE);
    CHECK(verdict("test=fault:ud", 0, bad) == CMDLINE_OK);
    CHECK(verdict("test=fault:xx", 0, bad) == CMDLINE_BAD_VALUE);
    CHECK(verdict("break=init,user-fault", 0, bad) == CMDLINE_OK);
    CHECK(verdict("benchunit=instructions", 0, bad) == CMDLINE_OK);
    CHECK(verdict("benchunit=", 0, bad) == CMDLINE_BAD_VALUE);
    CHECK(verdict("fuzzrepro=4", 0, bad) == CMDLINE_BAD_VALUE);
    CHECK(verdict("test=ipc  \ttimer=pit", 1, bad) == CMDLINE_OK);
    CHECK(verdict("timer=pit timer=pit", 1, bad) == CMDLINE_TWICE);
    CHECK(verdict("timer_hz=200 timer=pit", 1, bad) == CMDLINE_OK);
    CHECK(verdict("  ", 0, bad) == (enum cmdline_verdict) - 1);
    /* Every key is unique and every reader named. */
    for (size_t i = 0; i < cmdline_nwords; i++) {
        for (size_t j = i + 1; j < cmdline_nwords; j++)
            CHECK(strcmp(cmdline_words[i].key, cmdline_words[j].key) != 0);
        CHECK(cmdline_words[i].reader != NULL);
    }
    return check_done();
}
