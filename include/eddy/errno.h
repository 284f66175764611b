/* eddy/errno.h: error codes.
 *
 * Every eddy function that can fail returns 0 or a negative error code, and
 * every callback receives its status the same way. On POSIX the codes are the
 * negated errno values (EDDY_ENOENT == -ENOENT), so a caller may compare with
 * either. EDDY_EOF and the resolver codes EDDY_EAI_* have no errno
 * counterpart and lie outside errno's range.
 */
#ifndef EDDY_ERRNO_H
#define EDDY_ERRNO_H

#include "export.h"

#include <errno.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The codes eddy reports, as (name, message). One list drives the constants,
 * eddy_err_name() and eddy_strerror(), so they cannot drift apart. */
#define EDDY_ERRNO_LIST(X)                                              \
  X(E2BIG, "argument list too long")                                    \
  X(EACCES, "permission denied")                                        \
  X(EADDRINUSE, "address already in use")                               \
  X(EADDRNOTAVAIL, "address not available")                             \
  X(EAFNOSUPPORT, "address family not supported")                       \
  X(EAGAIN, "resource temporarily unavailable")                         \
  X(EALREADY, "connection already in progress")                         \
  X(EBADF, "bad file descriptor")                                       \
  X(EBUSY, "resource busy or locked")                                   \
  X(ECANCELED, "operation canceled")                                    \
  X(ECHILD, "no child processes")                                       \
  X(ECONNABORTED, "software caused connection abort")                   \
  X(ECONNREFUSED, "connection refused")                                 \
  X(ECONNRESET, "connection reset by peer")                             \
  X(EDEADLK, "resource deadlock avoided")                               \
  X(EDESTADDRREQ, "destination address required")                       \
  X(EEXIST, "file already exists")                                      \
  X(EFAULT, "bad address in system call argument")                      \
  X(EFBIG, "file too large")                                            \
  X(EHOSTUNREACH, "host is unreachable")                                \
  X(EINTR, "interrupted system call")                                   \
  X(EINVAL, "invalid argument")                                         \
  X(EIO, "i/o error")                                                   \
  X(EISCONN, "socket is already connected")                             \
  X(EISDIR, "illegal operation on a directory")                         \
  X(ELOOP, "too many symbolic links encountered")                       \
  X(EMFILE, "too many open files")                                      \
  X(EMSGSIZE, "message too long")                                       \
  X(ENAMETOOLONG, "name too long")                                      \
  X(ENETDOWN, "network is down")                                        \
  X(ENETUNREACH, "network is unreachable")                              \
  X(ENFILE, "file table overflow")                                      \
  X(ENOBUFS, "no buffer space available")                               \
  X(ENODEV, "no such device")                                           \
  X(ENOENT, "no such file or directory")                                \
  X(ENOMEM, "not enough memory")                                        \
  X(ENOSPC, "no space left on device")                                  \
  X(ENOSYS, "function not implemented")                                 \
  X(ENOTCONN, "socket is not connected")                                \
  X(ENOTDIR, "not a directory")                                         \
  X(ENOTEMPTY, "directory not empty")                                   \
  X(ENOTSOCK, "socket operation on non-socket")                         \
  X(ENOTSUP, "operation not supported")                                 \
  X(ENOTTY, "inappropriate ioctl for device")                           \
  X(EOVERFLOW, "value too large for defined data type")                 \
  X(EPERM, "operation not permitted")                                   \
  X(EPIPE, "broken pipe")                                               \
  X(EPROTO, "protocol error")                                           \
  X(EPROTONOSUPPORT, "protocol not supported")                          \
  X(EPROTOTYPE, "protocol wrong type for socket")                       \
  X(ERANGE, "result too large")                                         \
  X(EROFS, "read-only file system")                                     \
  X(ESPIPE, "invalid seek")                                             \
  X(ESRCH, "no such process")                                           \
  X(ETIMEDOUT, "connection timed out")                                  \
  X(ETXTBSY, "text file is busy")                                       \
  X(EXDEV, "cross-device link not permitted")

/* The resolver's errors (getaddrinfo/getnameinfo's EAI_* codes, see
 * eddy/dns.h), as (name, value, message). EAI_* values differ between
 * systems and collide with small errno values, so each gets a fixed value of
 * its own, from -3100 down: far from errno's range, from EDDY_EOF and from
 * the HTTP parser's results (-3000 to -3099, eddy/http_parser.h). A
 * clash with any other code fails to compile (duplicate case in errno.c).
 * EAI_SYSTEM has no entry: it is reported as the errno it carries. */
#define EDDY_EAI_LIST(X)                                                \
  X(EAI_ADDRFAMILY, -3100, "host name has no address in that family")   \
  X(EAI_AGAIN, -3101, "temporary failure in name resolution")           \
  X(EAI_BADFLAGS, -3102, "bad flags for name resolution")               \
  X(EAI_FAIL, -3103, "permanent failure in name resolution")            \
  X(EAI_FAMILY, -3104, "address family not supported by resolver")      \
  X(EAI_MEMORY, -3105, "out of memory in name resolution")              \
  X(EAI_NODATA, -3106, "no address for host name")                      \
  X(EAI_NONAME, -3107, "unknown host name or service")                  \
  X(EAI_OVERFLOW, -3108, "resolver buffer too small")                   \
  X(EAI_SERVICE, -3109, "service not available for socket type")        \
  X(EAI_SOCKTYPE, -3110, "socket type not supported by resolver")

enum {
#define EDDY_ERRNO_DEFINE(name, msg) EDDY_##name = -name,
  EDDY_ERRNO_LIST(EDDY_ERRNO_DEFINE)
#undef EDDY_ERRNO_DEFINE
#define EDDY_EAI_DEFINE(name, value, msg) EDDY_##name = value,
  EDDY_EAI_LIST(EDDY_EAI_DEFINE)
#undef EDDY_EAI_DEFINE
  EDDY_EMAXBUFFER = -4094, /* exec output over its limit; not an errno */
  /* End of file or stream; not an errno value. */
  EDDY_EOF = -4095
};

/* The symbolic name of an error code ("ENOENT", "EOF", "EAI_NONAME"; "OK"
 * for 0). Returns "UNKNOWN" for a code eddy does not know. The string is static; this is
 * safe from any thread. */
EDDY_EXTERN const char *eddy_err_name(int err);

/* A short human-readable message for an error code ("success" for 0).
 * Returns "unknown error" for a code eddy does not know. The string is static;
 * this is safe from any thread. */
EDDY_EXTERN const char *eddy_strerror(int err);

/* An error code from a platform error number (libuv's
 * uv_translate_sys_error): a positive errno value becomes its negative
 * (EDDY_ENOENT for ENOENT), and 0 or a value that is already negative
 * comes back unchanged. For code that calls the system itself and reports
 * in eddy's terms. Any thread. */
EDDY_EXTERN int eddy_translate_sys_error(int sys_errno);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_ERRNO_H */
