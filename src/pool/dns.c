/* dns.c: getaddrinfo and getnameinfo on the work pool.
 *
 * Each request runs the system resolver once, as a slow job (see work.c:
 * slow jobs may hold at most half the pool threads). getaddrinfo's
 * arguments are copied into one allocation when the request is made, so the
 * caller's strings may die at once; the copy is freed before the callback
 * runs, which lets the callback free or reuse the request and means a
 * cancelled request leaks nothing. getnameinfo needs no allocation: the
 * address and both result buffers live in the request.
 *
 * The synchronous forms run the same job function on the calling thread. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/handle.h"
#include "eddy/addr.h"
#include "eddy/dns.h"
#include "pool/work_internal.h"

_Static_assert(EDDY_NI_MAXHOST >= NI_MAXHOST && EDDY_NI_MAXSERV >= NI_MAXSERV,
               "eddy_getnameinfo_t buffers smaller than the system's");

/* An EAI_* result as an eddy error. err_no is errno as the resolver left it
 * on the thread that called it: EAI_SYSTEM means "see errno". */
static int eddy__dns_error(int rc, int err_no) {
  switch (rc) {
  case 0:
    return 0;
#ifdef EAI_ADDRFAMILY
  case EAI_ADDRFAMILY:
    return EDDY_EAI_ADDRFAMILY;
#endif
  case EAI_AGAIN:
    return EDDY_EAI_AGAIN;
  case EAI_BADFLAGS:
    return EDDY_EAI_BADFLAGS;
  case EAI_FAIL:
    return EDDY_EAI_FAIL;
  case EAI_FAMILY:
    return EDDY_EAI_FAMILY;
  case EAI_MEMORY:
    return EDDY_EAI_MEMORY;
#if defined(EAI_NODATA) && EAI_NODATA != EAI_NONAME
  case EAI_NODATA:
    return EDDY_EAI_NODATA;
#endif
  case EAI_NONAME:
    return EDDY_EAI_NONAME;
  case EAI_OVERFLOW:
    return EDDY_EAI_OVERFLOW;
  case EAI_SERVICE:
    return EDDY_EAI_SERVICE;
  case EAI_SOCKTYPE:
    return EDDY_EAI_SOCKTYPE;
  case EAI_SYSTEM:
    return err_no > 0 ? -err_no : EDDY_EAI_FAIL;
  default: /* a code this system adds (glibc's EAI_INTR, ...) */
    return EDDY_EAI_FAIL;
  }
}

/* ---- getaddrinfo ---- */

/* Copy the arguments into one block: the hints first (malloc aligns it for
 * any type), then node and service with their terminators. Only the hints
 * fields getaddrinfo reads are kept; the rest must be zero. */
static int eddy__getaddrinfo_copy(eddy_getaddrinfo_t *req, const char *node,
                                  const char *service,
                                  const struct addrinfo *hints) {
  size_t node_len = node != NULL ? strnlen(node, EDDY_NI_MAXHOST) : 0;
  size_t service_len =
      service != NULL ? strnlen(service, EDDY_NI_MAXSERV) : 0;
  struct addrinfo *copy;
  char *p;

  if (node_len >= EDDY_NI_MAXHOST || service_len >= EDDY_NI_MAXSERV)
    return EDDY_ENAMETOOLONG;
  copy = malloc(sizeof(*copy) + node_len + 1 + service_len + 1);
  if (copy == NULL)
    return EDDY_ENOMEM;
  memset(copy, 0, sizeof(*copy));
  if (hints != NULL) {
    copy->ai_flags = hints->ai_flags;
    copy->ai_family = hints->ai_family;
    copy->ai_socktype = hints->ai_socktype;
    copy->ai_protocol = hints->ai_protocol;
  }
  p = (char *)(copy + 1);
  req->priv.node = node != NULL ? memcpy(p, node, node_len + 1) : NULL;
  p += node_len + 1;
  req->priv.service =
      service != NULL ? memcpy(p, service, service_len + 1) : NULL;
  req->priv.copies = copy;
  /* NULL hints are not the same as zeroed hints (glibc then defaults to
   * AI_V4MAPPED | AI_ADDRCONFIG), so NULL stays NULL. */
  req->priv.hints = hints != NULL ? copy : NULL;
  return 0;
}

static void eddy__getaddrinfo_free_copies(eddy_getaddrinfo_t *req) {
  free(req->priv.copies);
  req->priv.copies = NULL;
  req->priv.hints = NULL;
  req->priv.node = NULL;
  req->priv.service = NULL;
}

static void eddy__getaddrinfo_run(eddy__work_t *w) {
  eddy_getaddrinfo_t *req = eddy__container_of(w, eddy_getaddrinfo_t,
                                               priv.work);
  struct addrinfo *res = NULL;
  int rc;

  errno = 0;
  rc = getaddrinfo(req->priv.node, req->priv.service, req->priv.hints, &res);
  req->priv.status = eddy__dns_error(rc, errno);
  req->addrinfo = rc == 0 ? res : NULL;
}

static void eddy__getaddrinfo_done(eddy__work_t *w, int status) {
  eddy_getaddrinfo_t *req = eddy__container_of(w, eddy_getaddrinfo_t,
                                               priv.work);

  eddy__getaddrinfo_free_copies(req);
  if (status == EDDY_ECANCELED) /* the job never ran: no result */
    req->priv.status = EDDY_ECANCELED;
  req->priv.cb(req, req->priv.status, req->addrinfo);
}

int eddy_getaddrinfo(eddy_loop_t *loop, eddy_getaddrinfo_t *req,
                     eddy_getaddrinfo_cb cb, const char *node,
                     const char *service, const struct addrinfo *hints) {
  int err;

  if (req == NULL || (node == NULL && service == NULL))
    return EDDY_EINVAL;
  eddy__req_init_pool(&req->req, EDDY_GETADDRINFO, &req->priv.work);
  req->loop = loop;
  req->addrinfo = NULL;
  req->priv.cb = cb;
  req->priv.status = 0;
  req->priv.copies = NULL;
  req->priv.hints = NULL;
  req->priv.node = NULL;
  req->priv.service = NULL;
  /* A request that is not queued must look finished to eddy_cancel. */
  memset(&req->priv.work, 0, sizeof(req->priv.work));
  if ((err = eddy__getaddrinfo_copy(req, node, service, hints)) != 0)
    return err;
  if (cb == NULL) {
    eddy__getaddrinfo_run(&req->priv.work);
    eddy__getaddrinfo_free_copies(req);
    return req->priv.status;
  }
  err = eddy__work_submit(loop, &req->priv.work, EDDY__WORK_SLOW_IO,
                          eddy__getaddrinfo_run, eddy__getaddrinfo_done);
  if (err != 0)
    eddy__getaddrinfo_free_copies(req);
  return err;
}

void eddy_freeaddrinfo(struct addrinfo *ai) {
  if (ai != NULL)
    freeaddrinfo(ai);
}

/* ---- getnameinfo ---- */

static void eddy__getnameinfo_run(eddy__work_t *w) {
  eddy_getnameinfo_t *req = eddy__container_of(w, eddy_getnameinfo_t,
                                               priv.work);
  const struct sockaddr *addr = (const struct sockaddr *)&req->priv.addr;
  int rc;

  errno = 0;
  rc = getnameinfo(addr, (socklen_t)eddy_sockaddr_len(addr), req->host,
                   sizeof(req->host), req->service, sizeof(req->service),
                   req->priv.flags);
  req->priv.status = eddy__dns_error(rc, errno);
  if (rc != 0) /* the buffers may hold a partial answer */
    req->host[0] = req->service[0] = '\0';
}

static void eddy__getnameinfo_done(eddy__work_t *w, int status) {
  eddy_getnameinfo_t *req = eddy__container_of(w, eddy_getnameinfo_t,
                                               priv.work);

  if (status == EDDY_ECANCELED)
    req->priv.status = EDDY_ECANCELED;
  if (req->priv.status != 0)
    req->priv.cb(req, req->priv.status, NULL, NULL);
  else
    req->priv.cb(req, 0, req->host, req->service);
}

int eddy_getnameinfo(eddy_loop_t *loop, eddy_getnameinfo_t *req,
                     eddy_getnameinfo_cb cb, const struct sockaddr *addr,
                     int flags) {
  int len;

  if (req == NULL || addr == NULL)
    return EDDY_EINVAL;
  if ((len = eddy_sockaddr_len(addr)) < 0)
    return EDDY_EINVAL;
  eddy__req_init_pool(&req->req, EDDY_GETNAMEINFO, &req->priv.work);
  req->loop = loop;
  req->host[0] = req->service[0] = '\0';
  memset(&req->priv.addr, 0, sizeof(req->priv.addr));
  memcpy(&req->priv.addr, addr, (size_t)len);
  req->priv.flags = flags;
  req->priv.cb = cb;
  req->priv.status = 0;
  memset(&req->priv.work, 0, sizeof(req->priv.work));
  if (cb == NULL) {
    eddy__getnameinfo_run(&req->priv.work);
    return req->priv.status;
  }
  return eddy__work_submit(loop, &req->priv.work, EDDY__WORK_SLOW_IO,
                           eddy__getnameinfo_run, eddy__getnameinfo_done);
}
