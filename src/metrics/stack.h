/* stack.h: names of code addresses, and the stack of another thread, for
 * the watchdog that reports a blocked loop.
 *
 * Nothing here allocates memory: names are written into caller buffers,
 * and the stack of the target thread is taken by a signal handler into a
 * preallocated slot.
 *
 * Symbol names. eddy__symbol_name asks the dynamic linker first (dladdr),
 * which knows only the dynamic symbol table (.dynsym): functions exported
 * by shared libraries, and functions of the executable only when it is
 * linked with -rdynamic (CMake: ENABLE_EXPORTS, or target_link_options
 * (app PRIVATE -rdynamic)). Static functions are never in .dynsym, with or
 * without -rdynamic, and they are what callbacks usually are; so when
 * dladdr has no name, the module's own file is mapped read-only (the
 * executable through /proc/self/exe, a library through its path) and its
 * full symbol table (.symtab) searched for the function that contains the
 * address. That names static functions too, in any binary that was not
 * stripped, without -rdynamic; -rdynamic still helps for a stripped
 * executable's exported functions. With no name at all the result is
 * "module+0xOFFSET", the offset that `addr2line -e module OFFSET` takes.
 * Separate debug files (.debug, -dbgsym packages) are not read. The
 * module's ELF header in memory must equal its file's, so a library
 * replaced on disk since it was loaded is not misnamed. Needs glibc for
 * the .symtab search (dladdr1 and the link map); elsewhere dladdr only.
 *
 * Stack capture (Linux with glibc; EDDY_ENOSYS elsewhere). A monitor
 * thread calls eddy__stack_capture(target): the target thread gets the
 * real-time signal SIGRTMIN+4 (eddy__stack_signal()) with pthread_sigqueue,
 * carrying the capture's number; its handler takes backtrace() into the
 * process-wide slot, and posts completion through an atomic word and a
 * futex wake-up, both async-signal-safe (no lock in the handler). It
 * saves and restores errno. The caller waits up to timeout_ms.
 *   - SIGRTMIN+4: no system library or common runtime is known to use it
 *     (glibc keeps two signals below SIGRTMIN for itself, valgrind uses the
 *     top of the range). If the program has already installed a handler
 *     for it, eddy__stack_capture_init leaves it alone and capture is
 *     unavailable (EDDY_EBUSY). A program that installs one later (or
 *     watches it with eddy_signal_start) replaces eddy's and breaks
 *     capture.
 *   - The handler is installed with SA_RESTART, so a target inside a
 *     blocking read(), write(), accept(), waitpid() ... resumes the call
 *     after the handler. Calls that the kernel never restarts (see
 *     signal(7)) return EINTR instead: poll, select, epoll_wait,
 *     nanosleep, clock_nanosleep, sleep/usleep, and reads with a socket
 *     timeout (SO_RCVTIMEO). eddy's own poll wait retries on EINTR.
 *   - backtrace()'s first call loads the unwinder (libgcc_s, through
 *     dlopen, which allocates); eddy__stack_capture_init makes that call,
 *     so the handler never allocates. With glibc 2.35+ and GCC 12+ the
 *     unwinder finds frame data without taking the loader's lock
 *     (_dl_find_object); with older ones a target interrupted inside
 *     dlopen or an unwind could block in the handler, and the capture
 *     times out (the slot stays busy until that handler finishes, and
 *     later captures return EDDY_EBUSY).
 *   - Frames start at the interrupted instruction: the handler drops its
 *     own frames and the signal trampoline (found from the interrupted PC
 *     in the signal context, on x86-64, i386 and aarch64; else from the
 *     handler's own return address, keeping the trampoline).
 *   - Under sanitizers: ASan and TSan intercept backtrace() (ASan adds a
 *     frame, dropped as above). TSan delays a signal until the target
 *     next enters an intercepted call or an atomic operation, or until a
 *     call it does not deliver signals in returns (read() is one, with
 *     GCC 12's TSan): a thread spinning without atomics, or blocked in
 *     read(), is not captured under TSan (EDDY_ETIMEDOUT), and the frames
 *     of a capture start inside TSan's runtime, before the target's own.
 */
#ifndef EDDY_METRICS_STACK_H
#define EDDY_METRICS_STACK_H

#include <pthread.h>
#include <stddef.h>

/* A name buffer of this size holds every name eddy__symbol_name writes
 * (longer symbols are truncated). */
#define EDDY__SYMBOL_MAX 256
/* Frames a capture takes at most (after the handler's own are dropped,
 * a few less). */
#define EDDY__STACK_FRAMES_MAX 64

/* Writes the name of the code at addr into buf (len bytes, always
 * NUL-terminated, truncated to fit):
 *   "name" or "name+0x1f"  the function symbol that contains addr
 *   "module+0x1234"        no symbol: the module's file name and offset
 *   "0x7f0123456789"       not in any loaded module
 * Returns 0 when a function name was found, EDDY_ENOENT when one of the
 * other two forms was written, EDDY_EINVAL (nothing written) when buf is
 * NULL or len is 0. addr is taken as is (a function pointer: a callback);
 * for a return address pass addr - 1. Any thread; not async-signal-safe
 * (dladdr takes the loader's lock). May open and map a module's file for
 * the duration of the call. */
int eddy__symbol_name(const void *addr, char *buf, size_t len);

/* Installs the capture signal's handler, once per process, and loads the
 * unwinder. Returns 0 (again on every later call), EDDY_EBUSY when the
 * signal already has a handler or is ignored (left untouched: capture is
 * unavailable), EDDY_ENOSYS where capture is not supported, or the error
 * of sigaction. Any thread; the result of the first call is kept. */
int eddy__stack_capture_init(void);

/* The signal number the capture uses (SIGRTMIN+4), or EDDY_ENOSYS. */
int eddy__stack_signal(void);

/* Takes the stack of thread target: up to max return addresses into
 * frames, innermost first (frames[0] the interrupted instruction when it
 * was found). Returns the number of frames (>= 0), or
 *   EDDY_ETIMEDOUT  the target did not answer within timeout_ms (it has
 *                   the signal blocked, or is stuck; a late answer is
 *                   ignored)
 *   EDDY_EBUSY      the handler of an earlier, timed-out capture is still
 *                   running, or the signal was taken (see init)
 *   EDDY_ENOSYS     not supported here
 *   EDDY_EINVAL     frames NULL, max <= 0 or timeout_ms < 0
 *   EDDY_EAGAIN     the signal queue is full (RLIMIT_SIGPENDING)
 *   EDDY_ESRCH      no such thread
 * Calls eddy__stack_capture_init first. target must be a live thread of
 * this process (a joined pthread_t is undefined behaviour, as for
 * pthread_kill); the calling thread itself works too. Any thread; one
 * capture at a time process-wide (callers queue on a mutex), so call it
 * from a monitor thread, never from a signal handler. */
int eddy__stack_capture(pthread_t target, void **frames, int max,
                        int timeout_ms);

/* Receives formatted text: returns 0 to go on, or a negative error that
 * stops the formatting and is returned. */
typedef int (*eddy__stack_write_fn)(void *arg, const char *data, size_t len);

/* Formats frames[0..n-1] one line each, "#3 0x55d0c0ffee12 name+0x1e\n",
 * handing each whole line to write_fn. frames[0] is named as an exact
 * address, the others as return addresses (looked up at address - 1, so a
 * call that ends a function names that function), as eddy__stack_capture
 * returns them. Returns 0, write_fn's error, or EDDY_EINVAL (write_fn
 * NULL, n < 0, frames NULL with n > 0). No allocation; the same threads
 * and caveats as eddy__symbol_name. */
int eddy__stack_format(void *const *frames, int n,
                       eddy__stack_write_fn write_fn, void *arg);

/* The same lines into buf (len bytes, NUL-terminated). Returns the length
 * written, EDDY_ENOBUFS when a line did not fit (buf holds the lines
 * before it), or EDDY_EINVAL (buf NULL, len 0, or as above). */
int eddy__stack_format_buf(void *const *frames, int n, char *buf, size_t len);

#endif /* EDDY_METRICS_STACK_H */
