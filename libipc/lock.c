/* A mutex for the threads of one task; the contract is in <mica/runtime.h>.
 *
 * The counting scheme (a "benaphore"): count is the number of threads that
 * hold or want the lock.  Whoever raises it from 0 holds it; the others
 * wait on the notification.  An unlock that leaves others counted signals
 * once, handing the lock to exactly one waiter.  Signals never pile up on
 * the one notification bit: the next signal can only come from the next
 * holder, who had to consume this one first to become the holder. */
#include <mica/runtime.h>

/* The lock's notification, created on first need; 0 if none can be made. */
static mica_handle_t lock_ntf(struct mica_lock *l)
{
    mica_handle_t h = __atomic_load_n(&l->ntf, __ATOMIC_ACQUIRE);
    if (h != 0)
        return h;
    mica_handle_t mine = 0;
    if (mica_notification_create(&mine) != MICA_OK)
        return 0;
    mica_handle_t expected = 0;
    if (__atomic_compare_exchange_n(&l->ntf, &expected, mine, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return mine;
    mica_handle_close(mine); /* another thread made one first */
    return expected;
}

void mica_lock(struct mica_lock *l)
{
    if (__atomic_fetch_add(&l->count, 1, __ATOMIC_ACQUIRE) == 0)
        return;
    for (;;) {
        mica_handle_t h = lock_ntf(l);
        if (h != 0 && mica_notify_wait(h, NULL, MICA_TIMEOUT_INFINITE) == MICA_OK)
            return;          /* handed over by mica_unlock */
        mica_sleep_us(1000); /* no handle to wait on (table full): try again soon */
    }
}

void mica_unlock(struct mica_lock *l)
{
    if (__atomic_fetch_sub(&l->count, 1, __ATOMIC_RELEASE) == 1)
        return;
    mica_handle_t h;
    while ((h = lock_ntf(l)) == 0 || mica_notify_signal(h, 1) != MICA_OK)
        mica_sleep_us(1000);
}
