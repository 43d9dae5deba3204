/* echo: the smallest real server.  It registers its endpoint with init's
 * name service under its module's name and answers every call with the
 * label + 1 and the words incremented.  Label ECHO_CRASH makes it crash in
 * the middle of the call (a null write): the restart tests use it. */
#include <mica/names.h>
#include <mica/runtime.h>

#define ECHO_CRASH 0x666

/* One call: m becomes its answer. */
static void echo(void *ctx, uint64_t badge, struct mica_msg *m, struct mica_ipc_buffer *buf)
{
    (void)ctx, (void)badge, (void)buf;
    if (mica_msg_label(m) == ECHO_CRASH)
        *(volatile uint64_t *)0 = 1; /* as asked: die while the caller waits */
    m->info = MICA_INFO(mica_msg_label(m) + 1, 0, 0);
    for (int i = 0; i < MICA_MSG_REGS; i++)
        m->mr[i]++;
}

int main(const struct mica_bootinfo *bi, uint64_t ns)
{
    (void)bi;
    mica_handle_t ep = 0;
    if (mica_endpoint_create(&ep) != MICA_OK ||
        mica_name_register((mica_handle_t)ns, mica_ipcbuf, "", ep) != MICA_OK) {
        mica_puts("[FAIL] echo: cannot register with the name service");
        return 1;
    }
    return mica_serve(ep, mica_ipcbuf, echo, NULL);
}
