/* test_os.c: eddy/os.h: CPUs, memory, uptime, host, environment,
 * directories, users, pids, priorities and the process title. The /proc
 * and cgroup readers also run on made-up files, so their parsing is
 * checked against known answers. */
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "sys/os_internal.h"
#include "test_util.h"

extern char **environ;

/* main's argv as the process got it. */
static int saved_argc;
static char **saved_argv;

/* --- helpers -------------------------------------------------------------- */

static char scratch[256];

/* A fresh directory for made-up /proc and /sys files. */
static void scratch_make(void) {
  snprintf(scratch, sizeof(scratch), "/tmp/eddy_test_os_XXXXXX");
  assert_non_null(mkdtemp(scratch));
}

static void scratch_remove(void) {
  char cmd[300];

  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
  assert_int_equal(system(cmd), 0);
}

/* Write text to scratch/rel, creating the directories on the way. */
static void put_file(const char *rel, const char *text) {
  char path[512];
  char *p;
  FILE *f;

  snprintf(path, sizeof(path), "%s/%s", scratch, rel);
  for (p = path + strlen(scratch) + 1; (p = strchr(p, '/')) != NULL; p++) {
    *p = '\0';
    mkdir(path, 0700);
    *p = '/';
  }
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* scratch/rel; four calls may share one argument list. */
static const char *scratch_path(const char *rel) {
  static char paths[4][512];
  static int next;
  char *path = paths[next++ % 4];

  snprintf(path, 512, "%s/%s", scratch, rel);
  return path;
}

/* Save and restore one environment variable around a test. */
struct saved_var {
  const char *name;
  char *value; /* NULL: was unset */
};

static void var_save(struct saved_var *v, const char *name) {
  const char *cur = getenv(name);

  v->name = name;
  v->value = cur != NULL ? strdup(cur) : NULL;
}

static void var_restore(struct saved_var *v) {
  if (v->value != NULL)
    assert_int_equal(eddy_os_setenv(v->name, v->value), 0);
  else
    assert_int_equal(eddy_os_unsetenv(v->name), 0);
  free(v->value);
}

/* --- CPUs ----------------------------------------------------------------- */

static void test_cpu_info(void **state) {
  eddy_cpu_info_t *cpus;
  int count, i;

  (void)state;
  assert_int_equal(eddy_cpu_info(&cpus, &count), 0);
  assert_int_equal(count, (int)sysconf(_SC_NPROCESSORS_ONLN));
  for (i = 0; i < count; i++) {
    assert_non_null(cpus[i].model);
    assert_true(strlen(cpus[i].model) > 0);
    assert_true(cpus[i].speed >= 0);
    assert_true(cpus[i].cpu_times.user + cpus[i].cpu_times.sys +
                    cpus[i].cpu_times.idle >
                0);
  }
  eddy_free_cpu_info(cpus, count);
  eddy_free_cpu_info(NULL, 0);
  assert_int_equal(eddy_cpu_info(NULL, &count), EDDY_EINVAL);
  assert_int_equal(eddy_cpu_info(&cpus, NULL), EDDY_EINVAL);
}

/* /proc/stat in ticks of 1/100 s: ms = ticks * 10. CPU 1's clock comes
 * from cpufreq (kHz), CPU 0's from cpuinfo's "cpu MHz". */
static void test_cpu_info_parse(void **state) {
  eddy_cpu_info_t *cpus;
  int count;

  (void)state;
  scratch_make();
  put_file("stat", "cpu  300 4 60 800 9 12 1 0 0 0\n"
                   "cpu0 100 2 30 400 5 6 1 0 0 0\n"
                   "cpu1 200 2 30 400 4 6 0 0 0 0\n"
                   "intr 12345\nctxt 999\n");
  put_file("cpuinfo", "processor\t: 0\nvendor_id\t: X\n"
                      "model name\t: Model Zero  \ncpu MHz\t\t: 1800.123\n\n"
                      "processor\t: 1\nmodel name\t: Model One\n"
                      "cpu MHz\t\t: 1200.000\n\n");
  put_file("sys/cpu1/cpufreq/scaling_cur_freq", "2500000\n");
  assert_int_equal(eddy__cpu_info_read(scratch_path("stat"),
                                       scratch_path("cpuinfo"),
                                       scratch_path("sys"), 100, &cpus, &count),
                   0);
  assert_int_equal(count, 2);
  assert_string_equal(cpus[0].model, "Model Zero");
  assert_int_equal(cpus[0].speed, 1800);
  assert_int_equal(cpus[0].cpu_times.user, 1000);
  assert_int_equal(cpus[0].cpu_times.nice, 20);
  assert_int_equal(cpus[0].cpu_times.sys, 300);
  assert_int_equal(cpus[0].cpu_times.idle, 4000);
  assert_int_equal(cpus[0].cpu_times.irq, 60);
  assert_string_equal(cpus[1].model, "Model One");
  assert_int_equal(cpus[1].speed, 2500);
  assert_int_equal(cpus[1].cpu_times.user, 2000);
  eddy_free_cpu_info(cpus, count);

  /* Without cpuinfo: the times, an unknown model, no speed. Keys before
   * the first "processor" line (some ARM kernels) apply to every CPU. */
  assert_int_equal(
      eddy__cpu_info_read(scratch_path("stat"), scratch_path("missing"),
                          scratch_path("none"), 100, &cpus, &count),
      0);
  assert_string_equal(cpus[1].model, "unknown");
  assert_int_equal(cpus[1].speed, 0);
  assert_int_equal(cpus[1].cpu_times.idle, 4000);
  eddy_free_cpu_info(cpus, count);
  put_file("cpuinfo", "Processor\t: ARMv7 rev 4\nprocessor\t: 0\n"
                      "processor\t: 1\n");
  assert_int_equal(
      eddy__cpu_info_read(scratch_path("stat"), scratch_path("cpuinfo"),
                          scratch_path("none"), 100, &cpus, &count),
      0);
  assert_string_equal(cpus[0].model, "ARMv7 rev 4");
  assert_string_equal(cpus[1].model, "ARMv7 rev 4");
  eddy_free_cpu_info(cpus, count);

  /* Errors: no per-CPU line, no stat file, a bad tick. */
  put_file("stat", "cpu  1 2 3 4 5 6 7\nintr 1\n");
  assert_int_equal(eddy__cpu_info_read(scratch_path("stat"), "/nonexistent",
                                       "/nonexistent", 100, &cpus, &count),
                   EDDY_EIO);
  assert_int_equal(eddy__cpu_info_read(scratch_path("missing"), "/nonexistent",
                                       "/nonexistent", 100, &cpus, &count),
                   EDDY_ENOENT);
  assert_int_equal(eddy__cpu_info_read(scratch_path("stat"), "/nonexistent",
                                       "/nonexistent", 0, &cpus, &count),
                   EDDY_EINVAL);
  scratch_remove();
}

/* --- load, uptime, rss, memory -------------------------------------------- */

static void test_loadavg_uptime(void **state) {
  double avg[3] = {-1, -1, -1}, up = 0;

  (void)state;
  eddy_loadavg(avg);
  assert_true(avg[0] >= 0 && avg[1] >= 0 && avg[2] >= 0);
  assert_int_equal(eddy_uptime(&up), 0);
  assert_true(up > 0);
  assert_int_equal(eddy_uptime(NULL), EDDY_EINVAL);
}

static void test_resident_set_memory(void **state) {
  size_t before = 0, after = 0, n = 32u << 20;
  char *block;

  (void)state;
  assert_int_equal(eddy_resident_set_memory(&before), 0);
  assert_true(before > 0);
  block = malloc(n);
  assert_non_null(block);
  memset(block, 1, n); /* now resident */
  assert_int_equal(eddy_resident_set_memory(&after), 0);
  assert_true(after > before);
  free(block);
  assert_int_equal(eddy_resident_set_memory(NULL), EDDY_EINVAL);
}

static void test_memory(void **state) {
  uint64_t total = eddy_get_total_memory(), free_mem = 0, avail = 0;
  uint64_t limit = eddy_get_constrained_memory();
  int tries, stable = 0;

  (void)state;
  /* Other processes change free memory between two readings: compare
   * available with a free figure that held still around it. */
  for (tries = 0; tries < 100 && !stable; tries++) {
    free_mem = eddy_get_free_memory();
    avail = eddy_get_available_memory();
    stable = eddy_get_free_memory() == free_mem;
  }
  assert_true(total > 0);
  assert_true(free_mem > 0 && free_mem <= total);
  assert_true(avail <= (stable ? free_mem : total));
  if (limit != 0)
    assert_true(avail <= limit);
}

/* v2: the smallest of memory.max and memory.high along the path; the room
 * is the smallest limit minus usage. v1: memory.limit_in_bytes, LONG_MAX
 * rounded down to a page meaning none. */
static void test_cgroup_parse(void **state) {
  uint64_t limit, room;

  (void)state;
  scratch_make();
  put_file("cg_v2", "0::/a/b\n");
  put_file("fs/a/b/memory.max", "max\n");
  put_file("fs/a/b/memory.high", "800000\n");
  put_file("fs/a/b/memory.current", "300000\n");
  put_file("fs/a/memory.max", "1000000\n");
  put_file("fs/a/memory.current", "400000\n");
  assert_int_equal(eddy__cgroup_memory(scratch_path("cg_v2"),
                                       scratch_path("fs"), &limit, &room),
                   0);
  assert_int_equal(limit, 800000);
  assert_int_equal(room, 500000);

  /* v1 without a limit anywhere; the v2 line of a hybrid setup is ignored
   * when a v1 hierarchy holds the memory controller. */
  put_file("cg_v1", "5:cpu:/x\n4:memory:/x\n0::/a/b\n");
  put_file("fs/memory/x/memory.limit_in_bytes", "9223372036854771712\n");
  put_file("fs/memory/memory.limit_in_bytes", "9223372036854771712\n");
  assert_int_equal(eddy__cgroup_memory(scratch_path("cg_v1"),
                                       scratch_path("fs"), &limit, &room),
                   0);
  assert_int_equal(limit, 0);
  assert_true(room == UINT64_MAX);

  /* v1, memory sharing a hierarchy with cpu, usage over the limit. */
  put_file("cg_v1b", "3:cpu,memory:/y/\n");
  put_file("fs/memory/y/memory.limit_in_bytes", "123456\n");
  put_file("fs/memory/y/memory.usage_in_bytes", "123457\n");
  assert_int_equal(eddy__cgroup_memory(scratch_path("cg_v1b"),
                                       scratch_path("fs"), &limit, &room),
                   0);
  assert_int_equal(limit, 123456);
  assert_int_equal(room, 0);

  /* No memory controller at all; no file at all. */
  put_file("cg_none", "1:cpu:/\n2:name=systemd:/\n");
  assert_int_equal(eddy__cgroup_memory(scratch_path("cg_none"),
                                       scratch_path("fs"), &limit, &room),
                   0);
  assert_int_equal(limit, 0);
  assert_int_equal(eddy__cgroup_memory(scratch_path("missing"),
                                       scratch_path("fs"), &limit, &room),
                   EDDY_ENOENT);
  scratch_remove();
}

/* --- host ----------------------------------------------------------------- */

static void test_gethostname(void **state) {
  char want[EDDY_MAXHOSTNAMESIZE], buf[EDDY_MAXHOSTNAMESIZE];
  size_t size = sizeof(buf), len;

  (void)state;
  assert_int_equal(gethostname(want, sizeof(want)), 0);
  len = strlen(want);
  assert_int_equal(eddy_os_gethostname(buf, &size), 0);
  assert_string_equal(buf, want);
  assert_int_equal(size, len);
  size = len; /* no room for the NUL */
  assert_int_equal(eddy_os_gethostname(buf, &size), EDDY_ENOBUFS);
  assert_int_equal(size, len + 1);
  assert_int_equal(eddy_os_gethostname(buf, &size), 0);
  assert_int_equal(size, len);
  size = 0;
  assert_int_equal(eddy_os_gethostname(buf, &size), EDDY_EINVAL);
  assert_int_equal(eddy_os_gethostname(NULL, &size), EDDY_EINVAL);
  assert_int_equal(eddy_os_gethostname(buf, NULL), EDDY_EINVAL);
}

static void test_uname(void **state) {
  eddy_utsname_t u;
  struct utsname want;

  (void)state;
  assert_int_equal(uname(&want), 0);
  assert_int_equal(eddy_os_uname(&u), 0);
  assert_string_equal(u.sysname, want.sysname);
  assert_string_equal(u.release, want.release);
  assert_string_equal(u.version, want.version);
  assert_string_equal(u.machine, want.machine);
  assert_int_equal(eddy_os_uname(NULL), EDDY_EINVAL);
}

/* --- environment ------------------------------------------------------- */

static void test_getenv(void **state) {
  char buf[64];
  size_t size;

  (void)state;
  assert_int_equal(eddy_os_setenv("EDDY_TEST_VAR", "hello"), 0);
  size = sizeof(buf);
  assert_int_equal(eddy_os_getenv("EDDY_TEST_VAR", buf, &size), 0);
  assert_string_equal(buf, "hello");
  assert_int_equal(size, 5);
  size = 5;
  assert_int_equal(eddy_os_getenv("EDDY_TEST_VAR", buf, &size), EDDY_ENOBUFS);
  assert_int_equal(size, 6);
  assert_int_equal(eddy_os_getenv("EDDY_TEST_VAR", buf, &size), 0);
  assert_string_equal(buf, "hello");
  assert_int_equal(eddy_os_setenv("EDDY_TEST_VAR", ""), 0); /* set, empty */
  size = 1;
  assert_int_equal(eddy_os_getenv("EDDY_TEST_VAR", buf, &size), 0);
  assert_int_equal(size, 0);
  assert_string_equal(buf, "");
  assert_int_equal(eddy_os_unsetenv("EDDY_TEST_VAR"), 0);
  size = sizeof(buf);
  assert_int_equal(eddy_os_getenv("EDDY_TEST_VAR", buf, &size), EDDY_ENOENT);
  assert_int_equal(eddy_os_getenv(NULL, buf, &size), EDDY_EINVAL);
  assert_int_equal(eddy_os_getenv("PATH", NULL, &size), EDDY_EINVAL);
  assert_int_equal(eddy_os_getenv("PATH", buf, NULL), EDDY_EINVAL);
  size = 0;
  assert_int_equal(eddy_os_getenv("PATH", buf, &size), EDDY_EINVAL);
}

static void test_setenv_unsetenv(void **state) {
  (void)state;
  assert_int_equal(eddy_os_setenv("EDDY_TEST_VAR", "one"), 0);
  assert_int_equal(eddy_os_setenv("EDDY_TEST_VAR", "two"), 0); /* replaces */
  assert_string_equal(getenv("EDDY_TEST_VAR"), "two");
  assert_int_equal(eddy_os_setenv(NULL, "x"), EDDY_EINVAL);
  assert_int_equal(eddy_os_setenv("", "x"), EDDY_EINVAL);
  assert_int_equal(eddy_os_setenv("A=B", "x"), EDDY_EINVAL);
  assert_int_equal(eddy_os_setenv("EDDY_TEST_VAR", NULL), EDDY_EINVAL);
  assert_int_equal(eddy_os_unsetenv("EDDY_TEST_VAR"), 0);
  assert_null(getenv("EDDY_TEST_VAR"));
  assert_int_equal(eddy_os_unsetenv("EDDY_TEST_VAR"), 0); /* not set: ok */
  assert_int_equal(eddy_os_unsetenv(NULL), EDDY_EINVAL);
  assert_int_equal(eddy_os_unsetenv(""), EDDY_EINVAL);
  assert_int_equal(eddy_os_unsetenv("A=B"), EDDY_EINVAL);
}

static void test_environ(void **state) {
  eddy_env_item_t *items;
  int count, i, want = 0, seen = 0;
  char **e;

  (void)state;
  assert_int_equal(eddy_os_setenv("EDDY_TEST_ENV1", "one"), 0);
  assert_int_equal(eddy_os_setenv("EDDY_TEST_ENV2", ""), 0);
  assert_int_equal(eddy_os_setenv("EDDY_TEST_ENV3", "x=y"), 0);
  for (e = environ; *e != NULL; e++)
    want += strchr(*e, '=') != NULL;
  assert_int_equal(eddy_os_environ(&items, &count), 0);
  assert_int_equal(count, want);
  for (i = 0; i < count; i++) {
    assert_string_equal(getenv(items[i].name), items[i].value);
    if (strcmp(items[i].name, "EDDY_TEST_ENV1") == 0) {
      assert_string_equal(items[i].value, "one");
      seen |= 1;
    } else if (strcmp(items[i].name, "EDDY_TEST_ENV2") == 0) {
      assert_string_equal(items[i].value, "");
      seen |= 2;
    } else if (strcmp(items[i].name, "EDDY_TEST_ENV3") == 0) {
      assert_string_equal(items[i].value, "x=y");
      seen |= 4;
    }
  }
  assert_int_equal(seen, 7);
  eddy_os_free_environ(items, count);
  eddy_os_free_environ(NULL, 0);
  assert_int_equal(eddy_os_environ(NULL, &count), EDDY_EINVAL);
  assert_int_equal(eddy_os_environ(&items, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_os_unsetenv("EDDY_TEST_ENV1"), 0);
  assert_int_equal(eddy_os_unsetenv("EDDY_TEST_ENV2"), 0);
  assert_int_equal(eddy_os_unsetenv("EDDY_TEST_ENV3"), 0);
}

/* --- directories, users ----------------------------------------------------
 */

static void test_homedir(void **state) {
  struct saved_var home;
  eddy_passwd_t pwd;
  char buf[512];
  size_t size;

  (void)state;
  var_save(&home, "HOME");
  assert_int_equal(eddy_os_get_passwd(&pwd), 0);
  assert_int_equal(eddy_os_setenv("HOME", "/home/eddy-test"), 0);
  size = sizeof(buf);
  assert_int_equal(eddy_os_homedir(buf, &size), 0);
  assert_string_equal(buf, "/home/eddy-test");
  assert_int_equal(size, 15);
  size = 15;
  assert_int_equal(eddy_os_homedir(buf, &size), EDDY_ENOBUFS);
  assert_int_equal(size, 16);
  /* No HOME, or an empty one: the password entry's directory. */
  assert_int_equal(eddy_os_unsetenv("HOME"), 0);
  size = sizeof(buf);
  assert_int_equal(eddy_os_homedir(buf, &size), 0);
  assert_string_equal(buf, pwd.homedir);
  assert_int_equal(eddy_os_setenv("HOME", ""), 0);
  size = sizeof(buf);
  assert_int_equal(eddy_os_homedir(buf, &size), 0);
  assert_string_equal(buf, pwd.homedir);
  size = 1;
  if (pwd.homedir[0] != '\0') {
    assert_int_equal(eddy_os_homedir(buf, &size), EDDY_ENOBUFS);
    assert_int_equal(size, strlen(pwd.homedir) + 1);
  }
  size = 0;
  assert_int_equal(eddy_os_homedir(buf, &size), EDDY_EINVAL);
  assert_int_equal(eddy_os_homedir(NULL, &size), EDDY_EINVAL);
  eddy_os_free_passwd(&pwd);
  var_restore(&home);
}

static void expect_tmpdir(const char *want) {
  char buf[256];
  size_t size = sizeof(buf);

  assert_int_equal(eddy_os_tmpdir(buf, &size), 0);
  assert_string_equal(buf, want);
  assert_int_equal(size, strlen(want));
}

static void test_tmpdir(void **state) {
  static const char *const names[] = {"TMPDIR", "TMP", "TEMP", "TEMPDIR"};
  struct saved_var saved[4];
  char buf[256];
  size_t size;
  int i;

  (void)state;
  for (i = 0; i < 4; i++) {
    var_save(&saved[i], names[i]);
    assert_int_equal(eddy_os_unsetenv(names[i]), 0);
  }
  expect_tmpdir("/tmp");
  assert_int_equal(eddy_os_setenv("TEMPDIR", "/d4/"), 0);
  expect_tmpdir("/d4");
  assert_int_equal(eddy_os_setenv("TEMP", "/d3"), 0);
  expect_tmpdir("/d3");
  assert_int_equal(eddy_os_setenv("TMP", "/d2"), 0);
  expect_tmpdir("/d2");
  assert_int_equal(eddy_os_setenv("TMPDIR", ""), 0); /* empty: skipped */
  expect_tmpdir("/d2");
  assert_int_equal(eddy_os_setenv("TMPDIR", "/"), 0); /* the root stays */
  expect_tmpdir("/");
  assert_int_equal(eddy_os_setenv("TMPDIR", "/abc/"), 0);
  expect_tmpdir("/abc");
  size = 4; /* "/abc" needs 5 with its NUL; the slash is not counted */
  assert_int_equal(eddy_os_tmpdir(buf, &size), EDDY_ENOBUFS);
  assert_int_equal(size, 5);
  assert_int_equal(eddy_os_tmpdir(buf, &size), 0);
  assert_string_equal(buf, "/abc");
  size = 0;
  assert_int_equal(eddy_os_tmpdir(buf, &size), EDDY_EINVAL);
  assert_int_equal(eddy_os_tmpdir(NULL, &size), EDDY_EINVAL);
  assert_int_equal(eddy_os_tmpdir(buf, NULL), EDDY_EINVAL);
  for (i = 0; i < 4; i++)
    var_restore(&saved[i]);
}

static void test_passwd(void **state) {
  eddy_passwd_t pwd;
  struct passwd *want;

  (void)state;
  assert_int_equal(eddy_os_get_passwd(&pwd), 0);
  want = getpwuid(geteuid());
  assert_non_null(want);
  assert_int_equal(pwd.uid, geteuid());
  assert_int_equal(pwd.gid, want->pw_gid);
  assert_string_equal(pwd.username, want->pw_name);
  assert_string_equal(pwd.homedir, want->pw_dir);
  assert_string_equal(pwd.shell, want->pw_shell);
  eddy_os_free_passwd(&pwd);
  assert_null(pwd.username);
  assert_null(pwd.homedir);
  eddy_os_free_passwd(NULL);

  assert_int_equal(eddy_os_get_passwd2(&pwd, 0), 0);
  assert_string_equal(pwd.username, "root");
  eddy_os_free_passwd(&pwd);
  assert_int_equal(eddy_os_get_passwd2(&pwd, 0x7ffffff0ul), EDDY_ENOENT);
  assert_int_equal(eddy_os_get_passwd2(&pwd, ULONG_MAX), EDDY_ENOENT);
  assert_int_equal(eddy_os_get_passwd(NULL), EDDY_EINVAL);
  assert_int_equal(eddy_os_get_passwd2(NULL, 0), EDDY_EINVAL);
}

/* --- process ---------------------------------------------------------- */

static void test_pids(void **state) {
  int status;
  pid_t child;

  (void)state;
  assert_int_equal(eddy_os_getpid(), getpid());
  assert_int_equal(eddy_os_getppid(), getppid());
  child = fork();
  assert_true(child >= 0);
  if (child == 0)
    _exit(eddy_os_getppid() == (int)getppid() &&
                  eddy_os_getpid() == (int)getpid()
              ? 0
              : 1);
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A pid past Linux's PID_MAX_LIMIT (2^22): no process can have it. */
#define NO_SUCH_PID 0x7fffffff

static void test_priority(void **state) {
  int mine, prio = 1234, status;
  pid_t child;

  (void)state;
  assert_int_equal(eddy_os_getpriority(0, &mine), 0);
  child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    for (;;)
      pause();
  }
  assert_int_equal(eddy_os_getpriority(child, &prio), 0);
  assert_int_equal(prio, mine); /* inherited */
  assert_int_equal(eddy_os_setpriority(child, EDDY_PRIORITY_LOW), 0);
  assert_int_equal(eddy_os_getpriority(child, &prio), 0);
  assert_int_equal(prio, EDDY_PRIORITY_LOW);
  assert_int_equal(eddy_os_setpriority(child, EDDY_PRIORITY_LOW + 1),
                   EDDY_EINVAL);
  assert_int_equal(eddy_os_setpriority(child, EDDY_PRIORITY_HIGHEST - 1),
                   EDDY_EINVAL);
  kill(child, SIGKILL);
  assert_int_equal(waitpid(child, &status, 0), child);

  assert_int_equal(eddy_os_setpriority(NO_SUCH_PID, EDDY_PRIORITY_NORMAL),
                   EDDY_ESRCH);
  assert_int_equal(eddy_os_getpriority(NO_SUCH_PID, &prio), EDDY_ESRCH);
  assert_int_equal(eddy_os_getpriority(0, NULL), EDDY_EINVAL);
  assert_int_equal(EDDY_PRIORITY_BELOW_NORMAL, 10);
  assert_int_equal(EDDY_PRIORITY_NORMAL, 0);
  assert_int_equal(EDDY_PRIORITY_ABOVE_NORMAL, -7);
  assert_int_equal(EDDY_PRIORITY_HIGH, -14);
}

/* --- process title ----------------------------------------------------------
 */

/* What /proc/self/cmdline shows up to its first NUL. */
static void read_cmdline(char *buf, size_t cap) {
  FILE *f = fopen("/proc/self/cmdline", "r");
  size_t n;

  assert_non_null(f);
  n = fread(buf, 1, cap - 1, f);
  fclose(f);
  buf[n] = '\0';
}

static void read_comm(char *buf, size_t cap) {
  FILE *f = fopen("/proc/self/comm", "r");

  assert_non_null(f);
  assert_non_null(fgets(buf, (int)cap, f));
  fclose(f);
  buf[strcspn(buf, "\n")] = '\0';
}

/* The room eddy_setup_args should find: the argument strings end to end,
 * then the environment strings that follow without a gap. */
static size_t measure_room(int argc, char **argv) {
  char *end = argv[0] + strlen(argv[0]) + 1;
  int i;

  for (i = 1; i < argc && argv[i] == end; i++)
    end += strlen(argv[i]) + 1;
  if (i == argc)
    for (i = 0; environ[i] != NULL && environ[i] == end; i++)
      end += strlen(environ[i]) + 1;
  return (size_t)(end - argv[0]);
}

/* One test, in order: before eddy_setup_args nothing can be set; after it,
 * titles up to the arguments' and environment's room. */
static void test_process_title(void **state) {
  eddy_env_item_t *before, *after;
  int nbefore, nafter, i;
  char buf[8192], shown[8192], *title;
  char **args;
  size_t room = measure_room(saved_argc, saved_argv), args_room = 0;

  (void)state;
  for (i = 0; i < saved_argc; i++)
    args_room += strlen(saved_argv[i]) + 1;
  /* Linux lays the environment strings right after the arguments. */
  assert_true(room > args_room);
  assert_int_equal(eddy_set_process_title("x"), EDDY_ENOBUFS);
  assert_int_equal(eddy_get_process_title(buf, sizeof(buf)), EDDY_ENOBUFS);
  assert_int_equal(eddy_os_environ(&before, &nbefore), 0);

  args = eddy_setup_args(saved_argc, saved_argv);
  assert_non_null(args);
  assert_ptr_not_equal(args, saved_argv);
  for (i = 0; i < saved_argc; i++)
    assert_string_equal(args[i], saved_argv[i]);
  assert_null(args[saved_argc]);
  assert_ptr_equal(eddy_setup_args(saved_argc, args), args); /* once only */
  assert_int_equal(eddy_get_process_title(buf, sizeof(buf)), 0);
  assert_string_equal(buf, args[0]);

  assert_int_equal(eddy_set_process_title("eddy-title-test-long-name"), 0);
  assert_int_equal(eddy_get_process_title(buf, sizeof(buf)), 0);
  assert_string_equal(buf, "eddy-title-test-long-name");
  read_cmdline(shown, sizeof(shown));
  assert_string_equal(shown, "eddy-title-test-long-name");
  read_comm(shown, sizeof(shown));
  assert_string_equal(shown, "eddy-title-test"); /* 15 bytes */
  assert_int_equal(eddy_get_process_title(buf, 25), EDDY_ENOBUFS);
  assert_int_equal(eddy_get_process_title(buf, 26), 0);
  assert_int_equal(eddy_get_process_title(NULL, 26), EDDY_EINVAL);
  assert_int_equal(eddy_get_process_title(buf, 0), EDDY_EINVAL);
  assert_int_equal(eddy_set_process_title(NULL), EDDY_EINVAL);

  /* A title longer than the room is cut to it; the room reaches past the
   * arguments into the moved environment, and no variable is lost. */
  assert_true(room < sizeof(buf) - 100);
  title = malloc(room + 50);
  assert_non_null(title);
  memset(title, 't', room + 49);
  title[room + 49] = '\0';
  assert_int_equal(eddy_set_process_title(title), 0);
  assert_int_equal(eddy_get_process_title(buf, sizeof(buf)), 0);
  assert_int_equal(strlen(buf), room - 1);
  read_cmdline(shown, sizeof(shown));
  assert_int_equal(strlen(shown), room - 1);
  free(title);
  assert_int_equal(eddy_os_environ(&after, &nafter), 0);
  assert_int_equal(nafter, nbefore);
  for (i = 0; i < nbefore; i++) {
    assert_string_equal(after[i].name, before[i].name);
    assert_string_equal(after[i].value, before[i].value);
  }
  eddy_os_free_environ(before, nbefore);
  eddy_os_free_environ(after, nafter);
  assert_int_equal(eddy_set_process_title(""), 0);
  assert_int_equal(eddy_get_process_title(buf, 1), 0);
  assert_string_equal(buf, "");
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      /* First, while the environment is as the process got it. */
      cmocka_unit_test_setup_teardown(test_process_title, test_fd_setup,
                                      test_fd_teardown),
      cmocka_unit_test(test_cpu_info),
      cmocka_unit_test(test_cpu_info_parse),
      cmocka_unit_test(test_loadavg_uptime),
      cmocka_unit_test(test_resident_set_memory),
      cmocka_unit_test(test_memory),
      cmocka_unit_test(test_cgroup_parse),
      cmocka_unit_test(test_gethostname),
      cmocka_unit_test(test_uname),
      cmocka_unit_test(test_getenv),
      cmocka_unit_test(test_setenv_unsetenv),
      cmocka_unit_test(test_environ),
      cmocka_unit_test(test_homedir),
      cmocka_unit_test(test_tmpdir),
      cmocka_unit_test(test_passwd),
      cmocka_unit_test(test_pids),
      cmocka_unit_test(test_priority),
  };

  saved_argc = argc;
  saved_argv = argv;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
