/* eddy/dns.h: name resolution on the work pool.
 *
 * eddy_getaddrinfo() and eddy_getnameinfo() run the system's getaddrinfo(3)
 * and getnameinfo(3) as jobs on the work pool (see eddy/work.h), so a slow
 * resolver never blocks the loop. Like every pool request they have a
 * synchronous form: with a NULL callback the call runs on the calling thread
 * and returns the status.
 *
 * Resolver jobs are "slow" jobs: they may hold at most half the pool
 * threads (rounded up), so lookups stuck on an unreachable name server
 * cannot starve file-system and crypto jobs. That is Node's rule too.
 *
 * Errors: the argument checks give EDDY_EINVAL or EDDY_ENAMETOOLONG; the
 * resolver's own EAI_* codes come back as EDDY_EAI_* (eddy/errno.h), except
 * EAI_SYSTEM, which is reported as the errno it carried (EDDY_EMFILE, ...).
 * A cancelled request gets EDDY_ECANCELED.
 */
#ifndef EDDY_DNS_H
#define EDDY_DNS_H

#include "export.h"

#include <netdb.h>
#include <sys/socket.h>

#include "loop.h"
#include "work.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Declared here too so that the prototypes below stay valid for programs
 * compiled without the POSIX feature macros that make <netdb.h> define it. */
struct addrinfo;

/* Buffer sizes of eddy_getnameinfo_t, fixed so the struct's layout does not
 * depend on feature macros. They equal glibc's and the BSDs' NI_MAXHOST and
 * NI_MAXSERV. They are also the limits on eddy_getaddrinfo's node and
 * service: EDDY_NI_MAXHOST - 1 and EDDY_NI_MAXSERV - 1 characters. */
#define EDDY_NI_MAXHOST 1025
#define EDDY_NI_MAXSERV 32

typedef struct eddy_getaddrinfo_s eddy_getaddrinfo_t;
typedef void (*eddy_getaddrinfo_cb)(eddy_getaddrinfo_t *req, int status,
                                    struct addrinfo *res);

struct eddy_getaddrinfo_s {
  eddy_req_t req; /* req.data is yours */
  eddy_loop_t *loop;
  struct addrinfo *addrinfo; /* the result; see eddy_getaddrinfo */
  struct {
    /* Copies of the arguments, so the job never reads caller memory: one
     * allocation holds the hints, then node and service. Each pointer is
     * NULL if the caller passed NULL. Freed before the callback runs. */
    void *copies;
    struct addrinfo *hints;
    char *node;
    char *service;
    eddy_getaddrinfo_cb cb;
    int status;
    eddy__work_t work;
  } priv;
};

typedef struct eddy_getnameinfo_s eddy_getnameinfo_t;
typedef void (*eddy_getnameinfo_cb)(eddy_getnameinfo_t *req, int status,
                                    const char *hostname, const char *service);

struct eddy_getnameinfo_s {
  eddy_req_t req; /* req.data is yours */
  eddy_loop_t *loop;
  char host[EDDY_NI_MAXHOST];    /* the result, NUL-terminated */
  char service[EDDY_NI_MAXSERV]; /* the result, NUL-terminated */
  struct {
    struct sockaddr_storage addr; /* a copy of the caller's address */
    int flags;
    eddy_getnameinfo_cb cb;
    int status;
    eddy__work_t work;
  } priv;
};

/* Resolve node and/or service with getaddrinfo(3). node, service and hints
 * (each may be NULL, but not both node and service) are copied, so they
 * need not outlive the call; only the hints' ai_flags, ai_family,
 * ai_socktype and ai_protocol are used.
 *
 * Asynchronous (cb not NULL): queues a pool job and returns 0; cb then runs
 * on the loop's thread with status 0 and the result list, or a negative
 * error and NULL. The callback owns the list and must release it with
 * eddy_freeaddrinfo(); req->addrinfo points to the same list. The request
 * must stay valid until cb has run, and keeps the loop alive until then. It
 * can be cancelled with eddy_cancel() while queued (status EDDY_ECANCELED).
 * A non-zero return means nothing was queued and cb will not run.
 *
 * Synchronous (cb NULL): resolves on the calling thread and returns the
 * status; on success the list is in req->addrinfo (NULL otherwise) and the
 * caller releases it with eddy_freeaddrinfo(req->addrinfo). loop is only
 * recorded in req->loop.
 *
 * Returns 0, EDDY_EINVAL (req NULL, node and service both NULL),
 * EDDY_ENAMETOOLONG (node or service too long, see EDDY_NI_MAXHOST),
 * EDDY_ENOMEM, an error starting the pool, or (synchronous form only) a
 * resolver error such as EDDY_EAI_NONAME. Call it from the loop's thread. */
EDDY_EXTERN int eddy_getaddrinfo(eddy_loop_t *loop, eddy_getaddrinfo_t *req,
                                 eddy_getaddrinfo_cb cb, const char *node,
                                 const char *service,
                                 const struct addrinfo *hints);

/* Release a list returned by eddy_getaddrinfo. NULL does nothing. Any
 * thread. */
EDDY_EXTERN void eddy_freeaddrinfo(struct addrinfo *ai);

/* Translate an IPv4 or IPv6 socket address to a host name and a service
 * name with getnameinfo(3); flags are getnameinfo's NI_* flags. The address
 * is copied.
 *
 * Asynchronous (cb not NULL): queues a pool job and returns 0; cb then runs
 * on the loop's thread with status 0 and the names (req->host and
 * req->service), or a negative error and two NULLs. The request must stay
 * valid until cb has run, and keeps the loop alive until then. It can be
 * cancelled with eddy_cancel() while queued (status EDDY_ECANCELED). A
 * non-zero return means nothing was queued and cb will not run.
 *
 * Synchronous (cb NULL): runs on the calling thread and returns the status;
 * on success the names are in req->host and req->service (both empty
 * strings otherwise). loop is only recorded in req->loop.
 *
 * Returns 0, EDDY_EINVAL (req or addr NULL, a family other than AF_INET or
 * AF_INET6), an error starting the pool, or (synchronous form only) a
 * resolver error such as EDDY_EAI_BADFLAGS. Call it from the loop's
 * thread. */
EDDY_EXTERN int eddy_getnameinfo(eddy_loop_t *loop, eddy_getnameinfo_t *req,
                                 eddy_getnameinfo_cb cb,
                                 const struct sockaddr *addr, int flags);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_DNS_H */
