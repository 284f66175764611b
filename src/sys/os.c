/* os.c: the portable half of eddy/os.h: environment, home and temporary
 * directories, password entries, host name, uname, pids and priorities.
 * Everything here is POSIX. The /proc readers (CPUs, memory, uptime) live
 * in os_stats.c, the process title in proctitle.c. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "eddy/os.h"
#include "sys/os_internal.h"

extern char **environ;

/* --- helpers -------------------------------------------------------------- */

/* eddy's environment calls exclude each other's writers: the C library's
 * getenv/setenv give no thread safety of their own. */
static pthread_rwlock_t eddy__env_lock = PTHREAD_RWLOCK_INITIALIZER;

void eddy__env_rdlock(void) {
  int rc = pthread_rwlock_rdlock(&eddy__env_lock);
  assert(rc == 0);
  (void)rc;
}

void eddy__env_wrlock(void) {
  int rc = pthread_rwlock_wrlock(&eddy__env_lock);
  assert(rc == 0);
  (void)rc;
}

void eddy__env_unlock(void) {
  int rc = pthread_rwlock_unlock(&eddy__env_lock);
  assert(rc == 0);
  (void)rc;
}

/* The buffer convention of eddy/os.h: check the arguments. */
static int eddy__buf_check(const char *buffer, const size_t *size) {
  if (buffer == NULL || size == NULL || *size == 0)
    return EDDY_EINVAL;
  return 0;
}

/* The buffer convention of eddy/os.h: copy len bytes of s and a NUL, or
 * report the size needed. */
static int eddy__buf_put(char *buffer, size_t *size, const char *s,
                         size_t len) {
  if (len >= *size) {
    *size = len + 1;
    return EDDY_ENOBUFS;
  }
  memcpy(buffer, s, len);
  buffer[len] = '\0';
  *size = len;
  return 0;
}

int eddy__read_file(const char *path, char **text, size_t *len) {
  size_t cap = 4096, n = 0;
  char *buf, *grown;
  ssize_t r;
  int fd, err = 0;

  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  buf = malloc(cap);
  if (buf == NULL) {
    close(fd);
    return EDDY_ENOMEM;
  }
  for (;;) {
    if (n + 1 == cap) { /* /proc files report no size: grow as they come */
      grown = realloc(buf, cap * 2);
      if (grown == NULL) {
        err = EDDY_ENOMEM;
        break;
      }
      buf = grown;
      cap *= 2;
    }
    r = read(fd, buf + n, cap - 1 - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      err = -errno;
    if (r <= 0)
      break;
    n += (size_t)r;
  }
  close(fd);
  if (err != 0) {
    free(buf);
    return err;
  }
  buf[n] = '\0';
  *text = buf;
  if (len != NULL)
    *len = n;
  return 0;
}

/* A variable name setenv accepts. */
static int eddy__env_name_ok(const char *name) {
  return name != NULL && name[0] != '\0' && strchr(name, '=') == NULL;
}

/* --- environment ---------------------------------------------------------- */

int eddy_os_getenv(const char *name, char *buffer, size_t *size) {
  const char *value;
  int r;

  if (name == NULL || eddy__buf_check(buffer, size) != 0)
    return EDDY_EINVAL;
  eddy__env_rdlock();
  value = getenv(name);
  r = value == NULL ? EDDY_ENOENT
                    : eddy__buf_put(buffer, size, value, strlen(value));
  eddy__env_unlock();
  return r;
}

int eddy_os_setenv(const char *name, const char *value) {
  int r = 0;

  if (!eddy__env_name_ok(name) || value == NULL)
    return EDDY_EINVAL;
  eddy__env_wrlock();
  if (setenv(name, value, 1) != 0)
    r = -errno;
  eddy__env_unlock();
  return r;
}

int eddy_os_unsetenv(const char *name) {
  int r = 0;

  if (!eddy__env_name_ok(name))
    return EDDY_EINVAL;
  eddy__env_wrlock();
  if (unsetenv(name) != 0)
    r = -errno;
  eddy__env_unlock();
  return r;
}

/* One block: the item array, then each "name\0value\0" copied from environ
 * (the '=' becomes the name's NUL). */
int eddy_os_environ(eddy_env_item_t **envitems, int *count) {
  size_t items = 0, bytes = 0, len;
  eddy_env_item_t *out;
  char *p, *eq;
  char **e;
  int n = 0;

  if (envitems == NULL || count == NULL)
    return EDDY_EINVAL;
  eddy__env_rdlock();
  for (e = environ; e != NULL && *e != NULL; e++) {
    if (strchr(*e, '=') == NULL)
      continue;
    items++;
    bytes += strlen(*e) + 1;
  }
  out = malloc(items * sizeof(*out) + bytes + 1);
  if (out == NULL) {
    eddy__env_unlock();
    return EDDY_ENOMEM;
  }
  p = (char *)(out + items);
  for (e = environ; e != NULL && *e != NULL; e++) {
    eq = strchr(*e, '=');
    if (eq == NULL)
      continue;
    len = strlen(*e);
    memcpy(p, *e, len + 1);
    p[eq - *e] = '\0';
    out[n].name = p;
    out[n].value = p + (eq - *e) + 1;
    p += len + 1;
    n++;
  }
  eddy__env_unlock();
  assert((size_t)n == items);
  *envitems = out;
  *count = n;
  return 0;
}

void eddy_os_free_environ(eddy_env_item_t *envitems, int count) {
  (void)count; /* one block: see eddy_os_environ */
  free(envitems);
}

/* --- password entries, directories ---------------------------------------- */

/* getpwuid_r into a buffer that grows until the entry fits. On success *buf
 * is the caller's to free. */
static int eddy__getpwuid(uid_t uid, struct passwd *pw, char **buf) {
  long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
  size_t cap = hint > 0 ? (size_t)hint : 4096;
  struct passwd *result;
  char *b;
  int rc;

  for (;;) {
    b = malloc(cap);
    if (b == NULL)
      return EDDY_ENOMEM;
    do
      rc = getpwuid_r(uid, pw, b, cap, &result);
    while (rc == EINTR);
    if (rc != ERANGE || cap >= (1u << 20))
      break;
    free(b);
    cap *= 2;
  }
  if (rc == 0 && result == NULL)
    rc = ENOENT;
  if (rc != 0) {
    free(b);
    return -rc;
  }
  *buf = b;
  return 0;
}

int eddy_os_get_passwd2(eddy_passwd_t *pwd, unsigned long uid) {
  size_t name_len, shell_len, dir_len;
  struct passwd pw;
  char *buf, *block;
  int r;

  if (pwd == NULL)
    return EDDY_EINVAL;
  if ((unsigned long)(uid_t)uid != uid)
    return EDDY_ENOENT; /* no such user can exist */
  r = eddy__getpwuid((uid_t)uid, &pw, &buf);
  if (r != 0)
    return r;
  name_len = strlen(pw.pw_name) + 1;
  shell_len = strlen(pw.pw_shell) + 1;
  dir_len = strlen(pw.pw_dir) + 1;
  block = malloc(name_len + shell_len + dir_len);
  if (block == NULL) {
    free(buf);
    return EDDY_ENOMEM;
  }
  pwd->username = memcpy(block, pw.pw_name, name_len);
  pwd->shell = memcpy(block + name_len, pw.pw_shell, shell_len);
  pwd->homedir = memcpy(block + name_len + shell_len, pw.pw_dir, dir_len);
  pwd->uid = (unsigned long)pw.pw_uid;
  pwd->gid = (unsigned long)pw.pw_gid;
  free(buf);
  return 0;
}

int eddy_os_get_passwd(eddy_passwd_t *pwd) {
  return eddy_os_get_passwd2(pwd, (unsigned long)geteuid());
}

void eddy_os_free_passwd(eddy_passwd_t *pwd) {
  if (pwd == NULL)
    return;
  free(pwd->username); /* the block that holds all three strings */
  memset(pwd, 0, sizeof(*pwd));
}

int eddy_os_homedir(char *buffer, size_t *size) {
  struct passwd pw;
  const char *home;
  char *buf;
  int r;

  if (eddy__buf_check(buffer, size) != 0)
    return EDDY_EINVAL;
  eddy__env_rdlock();
  home = getenv("HOME");
  if (home != NULL && home[0] != '\0') {
    r = eddy__buf_put(buffer, size, home, strlen(home));
    eddy__env_unlock();
    return r;
  }
  eddy__env_unlock();
  r = eddy__getpwuid(geteuid(), &pw, &buf);
  if (r != 0)
    return r;
  r = eddy__buf_put(buffer, size, pw.pw_dir, strlen(pw.pw_dir));
  free(buf);
  return r;
}

int eddy_os_tmpdir(char *buffer, size_t *size) {
  static const char *const vars[] = {"TMPDIR", "TMP", "TEMP", "TEMPDIR"};
  const char *dir = NULL;
  size_t i, len;
  int r;

  if (eddy__buf_check(buffer, size) != 0)
    return EDDY_EINVAL;
  eddy__env_rdlock();
  for (i = 0; i < sizeof(vars) / sizeof(vars[0]) && dir == NULL; i++) {
    dir = getenv(vars[i]);
    if (dir != NULL && dir[0] == '\0')
      dir = NULL;
  }
  if (dir == NULL)
    dir = "/tmp";
  len = strlen(dir);
  if (len > 1 && dir[len - 1] == '/')
    len--;
  r = eddy__buf_put(buffer, size, dir, len);
  eddy__env_unlock();
  return r;
}

/* --- host, process ----------------------------------------------------- */

int eddy_os_gethostname(char *buffer, size_t *size) {
  char name[EDDY_MAXHOSTNAMESIZE];

  if (eddy__buf_check(buffer, size) != 0)
    return EDDY_EINVAL;
  if (gethostname(name, sizeof(name)) != 0)
    return -errno;
  name[sizeof(name) - 1] = '\0'; /* POSIX leaves a cut name unterminated */
  return eddy__buf_put(buffer, size, name, strlen(name));
}

/* Copy a uname field, cut to the destination if it must be. */
static void eddy__copy_field(char *dst, size_t cap, const char *src) {
  size_t len = strlen(src);

  if (len >= cap)
    len = cap - 1;
  memcpy(dst, src, len);
  dst[len] = '\0';
}

int eddy_os_uname(eddy_utsname_t *buffer) {
  struct utsname u;

  if (buffer == NULL)
    return EDDY_EINVAL;
  if (uname(&u) < 0)
    return -errno;
  eddy__copy_field(buffer->sysname, sizeof(buffer->sysname), u.sysname);
  eddy__copy_field(buffer->release, sizeof(buffer->release), u.release);
  eddy__copy_field(buffer->version, sizeof(buffer->version), u.version);
  eddy__copy_field(buffer->machine, sizeof(buffer->machine), u.machine);
  return 0;
}

int eddy_os_getpid(void) {
  return (int)getpid();
}

int eddy_os_getppid(void) {
  return (int)getppid();
}

int eddy_os_getpriority(int pid, int *priority) {
  int r;

  if (priority == NULL)
    return EDDY_EINVAL;
  /* -1 is also a valid nice value: only errno tells them apart. */
  errno = 0;
  r = getpriority(PRIO_PROCESS, (id_t)pid);
  if (r == -1 && errno != 0)
    return -errno;
  *priority = r;
  return 0;
}

int eddy_os_setpriority(int pid, int priority) {
  if (priority < EDDY_PRIORITY_HIGHEST || priority > EDDY_PRIORITY_LOW)
    return EDDY_EINVAL;
  if (setpriority(PRIO_PROCESS, (id_t)pid, priority) != 0)
    return -errno;
  return 0;
}
