/* eddy/os.h: what a runtime asks the operating system about itself.
 *
 * CPU information, load average, memory (free, total, available, the cgroup
 * limit), uptime, resident set size, host name and uname, the environment,
 * the home and temporary directories, the password entry, process ids,
 * scheduling priority and the process title. The names are libuv's
 * (uv_cpu_info becomes eddy_cpu_info, uv_os_getenv eddy_os_getenv, ...) and
 * so are the semantics, except where a comment says otherwise. None of these
 * functions needs a loop; none is tied to a loop thread.
 *
 * Buffers: a function that fills a caller's buffer takes (buffer, size)
 * with *size the buffer's capacity in bytes. On success the string is
 * NUL-terminated and *size becomes its length without the NUL. If it does not
 * fit, nothing is written, the result is EDDY_ENOBUFS and *size becomes the
 * capacity needed, NUL included, so a second call with that size succeeds
 * (unless the value changed in between). A NULL buffer or size, or a *size of
 * 0, is EDDY_EINVAL.
 *
 * Errors are negative errno values (eddy/errno.h).
 *
 * Platforms: Linux reads /proc and /sys. Other POSIX systems get the
 * portable parts (environment, directories, password entry, host name,
 * uname, pids, priority, process title, total memory through sysconf, load
 * average through getloadavg on the BSDs and macOS); eddy_cpu_info,
 * eddy_uptime and eddy_resident_set_memory return EDDY_ENOSYS there,
 * eddy_get_free_memory returns 0 where sysconf has no _SC_AVPHYS_PAGES, and
 * eddy_get_constrained_memory returns 0 (no constraint known).
 */
#ifndef EDDY_OS_H
#define EDDY_OS_H

#include <stddef.h>
#include <stdint.h>

#include "errno.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- CPUs, load, memory, uptime ------------------------------------------ */

/* Time one CPU spent in each mode since boot, in milliseconds. */
typedef struct eddy_cpu_times_s {
  uint64_t user;
  uint64_t nice;
  uint64_t sys;
  uint64_t idle;
  uint64_t irq;
} eddy_cpu_times_t;

typedef struct eddy_cpu_info_s {
  char *model; /* "unknown" when the system does not say */
  int speed;   /* current clock in MHz; 0 when unknown */
  eddy_cpu_times_t cpu_times;
} eddy_cpu_info_t;

/* One entry per online CPU, in CPU order. On success *cpu_infos is an array
 * of *count entries the caller releases with eddy_free_cpu_info (one
 * allocation holds the array and the model strings). Linux: the times come
 * from /proc/stat, the model from /proc/cpuinfo ("model name", or
 * "Processor", "cpu model", "cpu"), the speed from cpufreq's
 * scaling_cur_freq, else /proc/cpuinfo's "cpu MHz". Errors: EDDY_EINVAL
 * (NULL argument), EDDY_ENOMEM, EDDY_EIO (/proc/stat lists no CPU), the
 * error opening /proc/stat; EDDY_ENOSYS off Linux. Any thread. */
EDDY_EXTERN int eddy_cpu_info(eddy_cpu_info_t **cpu_infos, int *count);

/* Release what eddy_cpu_info returned. NULL is allowed. Any thread. */
EDDY_EXTERN void eddy_free_cpu_info(eddy_cpu_info_t *cpu_infos, int count);

/* The 1, 5 and 15 minute load averages into avg[0..2]; zeros where the
 * system does not report them. Any thread. */
EDDY_EXTERN void eddy_loadavg(double avg[3]);

/* Seconds since boot (Linux: /proc/uptime, else CLOCK_BOOTTIME). Errors:
 * EDDY_EINVAL (NULL), EDDY_ENOSYS off Linux. Any thread. */
EDDY_EXTERN int eddy_uptime(double *uptime);

/* This process's resident set size in bytes (Linux: /proc/self/stat).
 * Errors: EDDY_EINVAL (NULL), the error reading the file, EDDY_EIO if it
 * cannot be parsed, EDDY_ENOSYS off Linux. Any thread. */
EDDY_EXTERN int eddy_resident_set_memory(size_t *rss);

/* Memory the system could give without swapping, in bytes (Linux:
 * MemAvailable in /proc/meminfo, else sysinfo's free RAM); 0 if unknown.
 * Any thread. */
EDDY_EXTERN uint64_t eddy_get_free_memory(void);

/* Physical memory in bytes (Linux: MemTotal, else sysinfo; elsewhere
 * sysconf); 0 if unknown. Any thread. */
EDDY_EXTERN uint64_t eddy_get_total_memory(void);

/* The memory limit the process runs under, in bytes, or 0 if there is none
 * or it is not known. Linux: the cgroup of /proc/self/cgroup: v2's
 * memory.max and memory.high, or v1's memory.limit_in_bytes, the smallest
 * along the path from the process's cgroup up to the root (a parent's limit
 * binds its children). It may be more than eddy_get_total_memory. Any
 * thread. */
EDDY_EXTERN uint64_t eddy_get_constrained_memory(void);

/* Free memory still available to the process: eddy_get_free_memory, or
 * less when a cgroup limit minus its usage (v2 memory.current, v1
 * memory.usage_in_bytes) leaves less. Any thread. */
EDDY_EXTERN uint64_t eddy_get_available_memory(void);

/* --- host -------------------------------------------------------------- */

#define EDDY_MAXHOSTNAMESIZE 256 /* bytes, NUL included; POSIX's max + 1 */

/* The host name, with the buffer convention above. Errors: EDDY_EINVAL,
 * EDDY_ENOBUFS, gethostname's error. Any thread. */
EDDY_EXTERN int eddy_os_gethostname(char *buffer, size_t *size);

typedef struct eddy_utsname_s {
  char sysname[256]; /* "Linux" */
  char release[256]; /* kernel release, "6.1.0-18-amd64" */
  char version[256]; /* kernel build, "#1 SMP PREEMPT_DYNAMIC ..." */
  char machine[256]; /* "x86_64" */
} eddy_utsname_t;

/* uname(2) into *buffer (each field NUL-terminated, truncated if the
 * system's is longer). Errors: EDDY_EINVAL (NULL), uname's error. Any
 * thread. */
EDDY_EXTERN int eddy_os_uname(eddy_utsname_t *buffer);

/* --- environment ---------------------------------------------------------
 * The eddy_os_*env functions and eddy_os_environ take one process-wide
 * reader/writer lock, so they are safe to call from any thread together.
 * Code that calls the C library's getenv, setenv, unsetenv or putenv
 * directly while another thread calls eddy_os_setenv or eddy_os_unsetenv is
 * not covered: the C library gives no such guarantee. */

/* The value of variable name, with the buffer convention above. Errors:
 * EDDY_EINVAL (NULL argument or *size 0), EDDY_ENOENT (not set),
 * EDDY_ENOBUFS. */
EDDY_EXTERN int eddy_os_getenv(const char *name, char *buffer, size_t *size);

/* Set (or replace) variable name. Errors: EDDY_EINVAL (NULL, empty name, or
 * a name containing '='), EDDY_ENOMEM. */
EDDY_EXTERN int eddy_os_setenv(const char *name, const char *value);

/* Remove variable name; removing one that is not set succeeds. Errors:
 * EDDY_EINVAL (NULL, empty name, or a name containing '='). */
EDDY_EXTERN int eddy_os_unsetenv(const char *name);

typedef struct eddy_env_item_s {
  char *name;
  char *value;
} eddy_env_item_t;

/* A snapshot of the whole environment: *envitems is an array of *count
 * entries in environ's order (entries without '=' are left out), owned by
 * the caller and released with eddy_os_free_environ (one allocation holds the
 * array and the strings). Errors: EDDY_EINVAL (NULL), EDDY_ENOMEM. */
EDDY_EXTERN int eddy_os_environ(eddy_env_item_t **envitems, int *count);

/* Release what eddy_os_environ returned. NULL is allowed. */
EDDY_EXTERN void eddy_os_free_environ(eddy_env_item_t *envitems, int count);

/* --- directories, users --------------------------------------------------- */

/* The current user's home directory: $HOME when set and not empty (libuv
 * returns an empty $HOME as it is; eddy looks further), else the password
 * entry's directory. Buffer convention above. Errors: EDDY_EINVAL,
 * EDDY_ENOBUFS, EDDY_ENOENT (no HOME and no password entry), EDDY_ENOMEM.
 * Any thread. */
EDDY_EXTERN int eddy_os_homedir(char *buffer, size_t *size);

/* The temporary directory: the first of $TMPDIR, $TMP, $TEMP, $TEMPDIR that
 * is set and not empty, else "/tmp"; a trailing '/' is removed (except from
 * "/" itself). Buffer convention above; the size needed on ENOBUFS is that of
 * the result without the slash. Errors: EDDY_EINVAL, EDDY_ENOBUFS. Any
 * thread. */
EDDY_EXTERN int eddy_os_tmpdir(char *buffer, size_t *size);

typedef struct eddy_passwd_s {
  char *username;
  unsigned long uid;
  unsigned long gid;
  char *shell;
  char *homedir;
} eddy_passwd_t;

/* The password entry of the effective user (getpwuid_r). The strings are
 * owned by *pwd (one allocation) and released with eddy_os_free_passwd.
 * Errors: EDDY_EINVAL (NULL), EDDY_ENOENT (no entry), EDDY_ENOMEM, the
 * error getpwuid_r reports. Any thread. */
EDDY_EXTERN int eddy_os_get_passwd(eddy_passwd_t *pwd);

/* The same for user id uid (libuv's uv_os_get_passwd2). */
EDDY_EXTERN int eddy_os_get_passwd2(eddy_passwd_t *pwd, unsigned long uid);

/* Release the strings of *pwd and clear it. NULL is allowed. */
EDDY_EXTERN void eddy_os_free_passwd(eddy_passwd_t *pwd);

/* --- process ---------------------------------------------------------- */

/* getpid() and getppid(). Any thread. */
EDDY_EXTERN int eddy_os_getpid(void);
EDDY_EXTERN int eddy_os_getppid(void);

/* Scheduling priorities: nice values, as libuv names them. */
#define EDDY_PRIORITY_LOW 19
#define EDDY_PRIORITY_BELOW_NORMAL 10
#define EDDY_PRIORITY_NORMAL 0
#define EDDY_PRIORITY_ABOVE_NORMAL -7
#define EDDY_PRIORITY_HIGH -14
#define EDDY_PRIORITY_HIGHEST -20

/* The nice value of process pid (0: the caller) into *priority. On Linux
 * a nice value belongs to a thread: pid 0 is the calling thread, a process
 * id names that process's main thread, a thread id that thread. Errors:
 * EDDY_EINVAL (NULL), EDDY_ESRCH (no such process), EDDY_EACCES /
 * EDDY_EPERM. Any thread. */
EDDY_EXTERN int eddy_os_getpriority(int pid, int *priority);

/* Set the nice value of pid (0: the caller, as above) to priority, from
 * EDDY_PRIORITY_HIGHEST (-20) to EDDY_PRIORITY_LOW (19). Raising the
 * priority (a lower value) needs privilege. Errors: EDDY_EINVAL (out of
 * range), EDDY_ESRCH, EDDY_EACCES / EDDY_EPERM. Any thread. */
EDDY_EXTERN int eddy_os_setpriority(int pid, int priority);

/* --- process title ---------------------------------------------------------
 * Call eddy_setup_args(argc, argv) once, first thing in main, before any
 * other thread starts and before anything keeps a pointer into argv or
 * from getenv(). It returns a copy of argv (the caller uses the copy from
 * then on; it stays valid until exit) and takes the memory that held the
 * argument strings as the title's room. To make that room longer, it also
 * moves the environment: every environment string that sits right after
 * the arguments (the usual layout of a new process) is copied to the heap
 * and environ[] is pointed at the copies. Afterwards, pointers that
 * getenv() returned earlier, and the original argv[i], may show the title
 * instead of what they showed; /proc/PID/environ shows the same overwritten
 * memory (the variables themselves are intact: use getenv or
 * eddy_os_getenv), and so does glibc's program_invocation_name, which
 * points at argv[0] (libuv has the same effect). If it cannot allocate it
 * returns argv as it was and the title cannot be set. Calling it again returns
 * its argument unchanged. */
EDDY_EXTERN char **eddy_setup_args(int argc, char **argv);

/* Set the title ps(1) and /proc/PID/cmdline show. A title longer than the
 * room eddy_setup_args found is cut to fit (as libuv does). On Linux, when
 * called on the thread that called eddy_setup_args, also names that thread
 * (its first 15 bytes: what top and ps -o comm show). Errors: EDDY_EINVAL
 * (NULL), EDDY_ENOBUFS (eddy_setup_args was not called or failed). Any
 * thread. */
EDDY_EXTERN int eddy_set_process_title(const char *title);

/* The current title into buffer of size bytes, NUL-terminated. Unlike the
 * getenv-style calls this takes the size by value (as libuv's does).
 * Errors: EDDY_EINVAL (NULL buffer or size 0), EDDY_ENOBUFS (the title and
 * its NUL do not fit, or eddy_setup_args was not called). Any thread. */
EDDY_EXTERN int eddy_get_process_title(char *buffer, size_t size);

/* --- clocks ------------------------------------------------------------ */

/* The clocks eddy_clock_gettime reads (libuv's uv_clock_id). */
typedef enum {
  EDDY_CLOCK_MONOTONIC = 0, /* steady, arbitrary origin (eddy_hrtime's) */
  EDDY_CLOCK_REALTIME = 1   /* wall-clock time since the Unix epoch */
} eddy_clock_id;

/* A point in time with 64-bit seconds (libuv's uv_timespec64_t). */
typedef struct eddy_timespec64_s {
  int64_t tv_sec;
  int32_t tv_nsec; /* 0 .. 999999999 */
} eddy_timespec64_t;

/* Read clock_id into *ts with nanosecond resolution (clock_gettime(2) with
 * CLOCK_MONOTONIC or CLOCK_REALTIME). The real-time clock may jump when the
 * system time is set; the monotonic one never goes back. Errors:
 * EDDY_EINVAL (ts NULL, or an unknown clock_id), or clock_gettime's error.
 * Any thread. */
EDDY_EXTERN int eddy_clock_gettime(eddy_clock_id clock_id,
                                   eddy_timespec64_t *ts);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_OS_H */
