/* The name service (in init): servers register endpoints under names and
 * clients look them up.  Calls on the handle every server gets from init as
 * its start argument; the reply has label NS_REPLY, mr[0] = status.
 * A name is up to 23 bytes, carried NUL-padded in mr[0..2]. */
#ifndef MICA_NAMES_H
#define MICA_NAMES_H

#include <mica/ipc.h>
#include <stdbool.h>

enum ns_label {
    NS_REPLY = 0,
    NS_REGISTER = 1, /* handle 0: the endpoint (SEND|TRANSFER); name in mr0..2, or empty for
                      * the caller's module name -> MICA_OK, MICA_EEXISTS (taken), MICA_ENOMEM (full) */
    NS_LOOKUP = 2,   /* name in mr0..2 -> MICA_OK and handle 0 (SEND), or MICA_EBADH (no such name) */
    NS_DEATH = 16,   /* from init's own supervisor thread: mr0 = bits of servers that ended */
};

#define NS_NAME_MAX 23

/* Register ep under name ("" for the module's own name); buf is the
 * calling thread's IPC buffer (the handle travels through it). */
int mica_name_register(mica_handle_t ns, struct mica_ipc_buffer *buf, const char *name, mica_handle_t ep);
/* Look name up; on success *out is a send handle to its endpoint. */
int mica_name_lookup(mica_handle_t ns, struct mica_ipc_buffer *buf, const char *name, mica_handle_t *out);
/* The same, but while the name is unknown (its server has not registered
 * yet, or is restarting) try again, 1 ms later, then 2, 4, ... up to 64 ms
 * apart, until it is found or `timeout` microseconds have passed
 * (MICA_ETIMEOUT; MICA_TIMEOUT_INFINITE waits for good).  The name service
 * cannot hold a caller (a server owes one reply at a time), so this polls. */
int mica_name_lookup_wait(mica_handle_t ns, struct mica_ipc_buffer *buf, const char *name, uint64_t timeout,
                          mica_handle_t *out);
/* Pack a name into three message registers (NUL-padded); false if too long. */
bool mica_name_pack(const char *name, uint64_t mr[3]);

#endif
