/* Names of Mica's status codes, for log lines: a person reads
 * "MICA_ENOMEM", not "-7".  The codes themselves are in <mica/abi.h>. */
#ifndef BASE_STATUS_H
#define BASE_STATUS_H

/* The name of status st ("MICA_OK", "MICA_EINVAL", ...), or "MICA_E?" for a
 * value that is not a status code. */
const char *status_name(int st);

#endif
