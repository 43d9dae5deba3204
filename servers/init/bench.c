/* Benchmarks (bench=ipc): see docs/performance.md.  Filled in with the
 * fastpath work. */
#include "init.h"

void bench_run(void)
{
    mica_puts("# bench: no figures yet");
}
