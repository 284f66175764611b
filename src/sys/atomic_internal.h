/* sys/atomic_internal.h: both implementations of eddy_atomic_wait and
 * eddy_atomic_notify, so the tests can run each of them on Linux. The
 * public functions use the futex one on Linux and the table elsewhere; a
 * word must be waited on and notified through the same implementation.
 * The arguments are checked by the public functions, not here. */
#ifndef EDDY_SYS_ATOMIC_INTERNAL_H
#define EDDY_SYS_ATOMIC_INTERNAL_H

#include <stdint.h>

#ifdef __linux__
int eddy__atomic_wait_futex(const uint32_t *addr, uint32_t expected,
                            int64_t timeout_ns);
int eddy__atomic_notify_futex(const uint32_t *addr, unsigned count);
#endif

/* The portable one: a hashed table of mutexes and waiter lists. */
int eddy__atomic_wait_table(const uint32_t *addr, uint32_t expected,
                            int64_t timeout_ns);
int eddy__atomic_notify_table(const uint32_t *addr, unsigned count);

/* How many threads wait on addr in the table now (for tests). */
unsigned eddy__atomic_table_waiters(const uint32_t *addr);

#endif /* EDDY_SYS_ATOMIC_INTERNAL_H */
