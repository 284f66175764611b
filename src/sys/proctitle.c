/* proctitle.c: eddy_setup_args and the process title.
 *
 * What ps shows is the memory that held the argument strings when the
 * process started (the kernel reads /proc/PID/cmdline from there). To set a
 * title, eddy writes into that memory, so eddy_setup_args first copies argv
 * somewhere safe. The strings of a new process lie end to end: the
 * arguments, then the environment strings. The longest run of them that is
 * contiguous is the title's room; the environment strings in it are copied
 * to the heap first and environ[] pointed at the copies, so writing the
 * title over them loses nothing (nginx and PostgreSQL make the same move;
 * libuv takes only the arguments' room). */
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "eddy/os.h"
#include "sys/os_internal.h"

extern char **environ;

static struct {
  pthread_mutex_t lock; /* title, len: set_process_title from any thread */
  char *title;          /* argv[0]'s memory: the start of the room */
  size_t cap;           /* bytes of room, NUL included */
  size_t len;           /* length of the current title */
  char **args;          /* the copy eddy_setup_args returned; NULL: none */
  pthread_t main_thread;
} eddy__pt = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Copy argv (pointers and strings) into one block; the block is kept for
 * the life of the process. */
static char **eddy__copy_args(int argc, char **argv) {
  size_t bytes = (size_t)(argc + 1) * sizeof(char *), len;
  char **copy;
  char *p;
  int i;

  for (i = 0; i < argc; i++)
    bytes += strlen(argv[i]) + 1;
  copy = malloc(bytes);
  if (copy == NULL)
    return NULL;
  p = (char *)(copy + argc + 1);
  for (i = 0; i < argc; i++) {
    len = strlen(argv[i]) + 1;
    copy[i] = memcpy(p, argv[i], len);
    p += len;
  }
  copy[argc] = NULL;
  return copy;
}

/* Move the environment strings that follow end contiguously to the heap
 * (one block) and return the new end of the room. Environment lock held. */
static char *eddy__move_environ(char *end) {
  size_t bytes = 0, len;
  char *scan = end, *block, *p;
  int i, n = 0;

  for (i = 0; environ != NULL && environ[i] != NULL; i++) {
    if (environ[i] != scan)
      break;
    len = strlen(environ[i]) + 1;
    scan += len;
    bytes += len;
    n++;
  }
  if (n == 0)
    return end;
  block = malloc(bytes);
  if (block == NULL)
    return end; /* the arguments' room alone */
  p = block;
  for (i = 0; i < n; i++) {
    len = strlen(environ[i]) + 1;
    environ[i] = memcpy(p, environ[i], len);
    p += len;
  }
  return scan;
}

char **eddy_setup_args(int argc, char **argv) {
  char **copy;
  char *end;
  int i;

  if (argc <= 0 || argv == NULL || argv[0] == NULL)
    return argv;
  pthread_mutex_lock(&eddy__pt.lock);
  if (eddy__pt.args != NULL) {
    pthread_mutex_unlock(&eddy__pt.lock);
    return argv;
  }
  copy = eddy__copy_args(argc, argv);
  if (copy == NULL) {
    pthread_mutex_unlock(&eddy__pt.lock);
    return argv;
  }
  /* The room: argv[0] and whatever follows it without a gap. */
  end = argv[0] + strlen(argv[0]) + 1;
  for (i = 1; i < argc && argv[i] == end; i++)
    end += strlen(argv[i]) + 1;
  if (i == argc) {
    eddy__env_wrlock();
    end = eddy__move_environ(end);
    eddy__env_unlock();
  }
  eddy__pt.title = argv[0];
  eddy__pt.cap = (size_t)(end - argv[0]);
  eddy__pt.len = strlen(argv[0]);
  eddy__pt.args = copy;
  eddy__pt.main_thread = pthread_self();
  pthread_mutex_unlock(&eddy__pt.lock);
  return copy;
}

int eddy_set_process_title(const char *title) {
  size_t len;

  if (title == NULL)
    return EDDY_EINVAL;
  pthread_mutex_lock(&eddy__pt.lock);
  if (eddy__pt.args == NULL) {
    pthread_mutex_unlock(&eddy__pt.lock);
    return EDDY_ENOBUFS;
  }
  assert(eddy__pt.cap > 0);
  len = strlen(title);
  if (len >= eddy__pt.cap)
    len = eddy__pt.cap - 1;
  memcpy(eddy__pt.title, title, len);
  /* Clear the rest: the kernel shows the room up to the first NUL once the
   * title runs past the arguments' original end. */
  memset(eddy__pt.title + len, '\0', eddy__pt.cap - len);
  eddy__pt.len = len;
#ifdef __linux__
  if (pthread_equal(pthread_self(), eddy__pt.main_thread)) {
    char comm[16];
    size_t n = len < sizeof(comm) - 1 ? len : sizeof(comm) - 1;
    memcpy(comm, title, n);
    comm[n] = '\0';
    (void)pthread_setname_np(pthread_self(), comm);
  }
#endif
  pthread_mutex_unlock(&eddy__pt.lock);
  return 0;
}

int eddy_get_process_title(char *buffer, size_t size) {
  int r = 0;

  if (buffer == NULL || size == 0)
    return EDDY_EINVAL;
  pthread_mutex_lock(&eddy__pt.lock);
  if (eddy__pt.args == NULL || size <= eddy__pt.len) {
    r = EDDY_ENOBUFS;
  } else {
    memcpy(buffer, eddy__pt.title, eddy__pt.len);
    buffer[eddy__pt.len] = '\0';
  }
  pthread_mutex_unlock(&eddy__pt.lock);
  return r;
}
