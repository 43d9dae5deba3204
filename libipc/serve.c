/* The server loop; the contract is in <mica/runtime.h>. */
#include <base/status.h>
#include <mica/runtime.h>

int mica_serve(mica_handle_t ep, struct mica_ipc_buffer *buf, mica_serve_fn *fn, void *ctx)
{
    struct mica_msg m = {0};
    uint64_t badge = 0;
    int st = mica_recv(ep, &m, &badge, MICA_TIMEOUT_INFINITE);
    while (st == MICA_OK) {
        fn(ctx, badge, &m, buf);
        st = mica_reply_recv(ep, &m, &badge, MICA_TIMEOUT_INFINITE);
        if (st != MICA_OK) {
            /* Either the reply was refused (then nothing was received) or
             * receiving failed: one more receive tells which. */
            mica_printf("[WARN] serve: reply or receive on handle %llu failed: %s; receiving again\n",
                        (unsigned long long)ep, status_name(st));
            st = mica_recv(ep, &m, &badge, MICA_TIMEOUT_INFINITE);
        }
    }
    return st;
}
