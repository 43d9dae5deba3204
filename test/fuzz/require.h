/* REQUIRE(cond): the fuzz targets' invariant check.  It names the broken
 * invariant on stderr, then aborts so that libFuzzer saves the input. */
#ifndef MICA_TEST_FUZZ_REQUIRE_H
#define MICA_TEST_FUZZ_REQUIRE_H

#include <stdio.h>
#include <stdlib.h>

#define REQUIRE(cond)                                                                                        \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "invariant broken at %s:%d: %s\n", __FILE__, __LINE__, #cond);                   \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

#endif
