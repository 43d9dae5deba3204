/* rtcheck: the test server of the runtime suite (test=runtime).  Started
 * several times under different names, each with one word after `--`
 * naming what it checks (heap, quota, threads, limits, restart,
 * overflow: RT_RUN answers mr2 = the base of a thread's stack region,
 * then that thread overflows its stack and the task stops); it
 * registers under its module name and answers: */
#ifndef RTCHECK_H
#define RTCHECK_H

enum rtcheck_label {
    RT_RUN = 1,   /* run the check -> mr0 failures, mr1 generation, mr2 pager client, mr3 its frames */
    RT_CRASH = 2, /* die in the middle of the call (restart) */
    RT_TOUCH = 3, /* mr0 pages: malloc and touch that much, keep it -> mr3 its frames */
};

#endif
