/* The server loop's one out-of-line part; the loop, mica_serve, is
 * inline in <mica/runtime.h>. */
#include <base/status.h>
#include <mica/runtime.h>

void mica_serve_warn(mica_handle_t ep, int status)
{
    mica_printf("[WARN] serve: reply or receive on handle %llu failed: %s; receiving again\n",
                (unsigned long long)ep, status_name(status));
}
