/* sys/os_internal.h: what the src/sys/os*.c files share, and the readers
 * the tests call on made-up /proc and /sys trees. */
#ifndef EDDY_SYS_OS_INTERNAL_H
#define EDDY_SYS_OS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "eddy/os.h"

/* The lock behind the eddy_os_*env functions (os.c); eddy_setup_args takes
 * it for writing while it moves the environment (proctitle.c). */
void eddy__env_rdlock(void);
void eddy__env_wrlock(void);
void eddy__env_unlock(void);

/* Read a whole file into a NUL-terminated heap buffer the caller frees.
 * Returns 0, or a negative errno (open/read failures, EDDY_ENOMEM). */
int eddy__read_file(const char *path, char **text, size_t *len);

/* eddy_cpu_info on the files given: stat_path (/proc/stat), cpuinfo_path
 * (/proc/cpuinfo, may be missing) and the cpufreq directory root sysfs_cpu
 * (/sys/devices/system/cpu). clk_tck is the unit of /proc/stat's times. */
int eddy__cpu_info_read(const char *stat_path, const char *cpuinfo_path,
                        const char *sysfs_cpu, long clk_tck,
                        eddy_cpu_info_t **cpu_infos, int *count);

/* The cgroup memory limit of the process described by proc_cgroup (a copy
 * of /proc/self/cgroup) under the cgroup mount root (/sys/fs/cgroup):
 * *limit is the smallest limit along the path (0: none), *room the smallest
 * limit minus usage (UINT64_MAX: no limit). Returns 0 or a negative errno
 * (the error reading proc_cgroup). */
int eddy__cgroup_memory(const char *proc_cgroup, const char *root,
                        uint64_t *limit, uint64_t *room);

#endif /* EDDY_SYS_OS_INTERNAL_H */
