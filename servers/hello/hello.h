/* The hello protocol: what the example server (servers/hello/) answers
 * and its client (servers/hello-client/) asks.  Calls on the endpoint the
 * server registers as "hello"; every reply has mr0 = a MICA_* status. */
#ifndef HELLO_H
#define HELLO_H

enum hello_label {
    HELLO_SIGN = 1,  /* mr1..mr3: a name (up to 23 bytes, mica_name_pack) -> mr1 its number in the book */
    HELLO_READ = 2,  /* mr1: a number -> mr1..mr3 the name signed under it (MICA_EINVAL: none) */
    HELLO_WHO = 3,   /* -> mr1 the server's pager client id (to share a page with it) */
    HELLO_GREET = 4, /* mr1: the address, in the server, of a page shared with it holding a
                      * name; the server writes "Hello, NAME!" after it -> mr1 bytes written */
    HELLO_WAIT = 5,  /* mr1: n -> once the book holds n names (at most 5 s: MICA_ETIMEOUT),
                      * mr1 how many it holds; meanwhile the other thread serves */
};

/* Every reply: mr3 = which of the server's threads answered (0 or 1). */

#endif
