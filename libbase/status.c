/* Status names; see base/status.h.  The table is indexed by -status.
 * MICA_EBUSY is the last code of abi.h: a new code gets its name here too
 * (test/host/test_libbase.c checks every name against its macro). */
#include "base/status.h"
#include "mica/abi.h"

static const char *const names[] = {
    "MICA_OK",        "MICA_ENOSYS",    "MICA_EINVAL",   "MICA_EBADH",      "MICA_ETYPE",
    "MICA_ERIGHTS",   "MICA_EFAULT",    "MICA_ENOMEM",   "MICA_ENOHANDLES", "MICA_ETIMEOUT",
    "MICA_EDEAD",     "MICA_EABORTED",  "MICA_ETOOLONG", "MICA_ENOREPLY",   "MICA_EKERNEL",
    "MICA_ENONCANON", "MICA_ENOTOWNER", "MICA_EUPGRADE", "MICA_EEXISTS",    "MICA_EBUSY",
};
_Static_assert(sizeof names / sizeof names[0] == -MICA_EBUSY + 1, "every status code has a name");

const char *status_name(int st)
{
    if (st > 0 || -(long)st >= (long)(sizeof names / sizeof names[0]))
        return "MICA_E?";
    return names[-st];
}
