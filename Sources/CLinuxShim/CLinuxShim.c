// The wrappers of include/CLinuxShim.h that need _GNU_SOURCE or expand macros, and the
// thread-local.
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <pthread.h>
#include <sched.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdio.h>
#include <linux/falloc.h>
#include <sys/xattr.h>
#include <malloc.h>
#include "CLinuxShim.h"

// initial-exec: a plain %fs-relative load, not a __tls_get_addr call, on every enqueue.
__attribute__((tls_model("initial-exec"))) _Thread_local void *cln_tls_current_loop = 0;

int cln_accept_nonblocking(int fd) { return accept4(fd, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC); }

void cln_fdset_clear(void *set) { FD_ZERO((fd_set *)set); }
void cln_fdset_add(void *set, int fd) { FD_SET(fd, (fd_set *)set); }
int cln_fdset_has(const void *set, int fd) { return FD_ISSET(fd, (const fd_set *)set); }
int cln_fdset_capacity(void) { return FD_SETSIZE; }

int cln_gettid(void) { return (int)syscall(SYS_gettid); }

int cln_set_current_thread_name(const char *name) {
    char cut[16];
    strncpy(cut, name, sizeof cut - 1);
    cut[sizeof cut - 1] = 0;
    return pthread_setname_np(pthread_self(), cut);
}

int cln_start_writeback(int fd, long long offset, long long length) {
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
}

int cln_reserve_space(int fd, long long length) { return fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, length); }

int cln_o_direct(void) { return O_DIRECT; }

int cln_set_xattr(int fd, const char *name, const void *value, unsigned long size) {
    return fsetxattr(fd, name, value, size, 0);
}
long long cln_get_xattr(const char *path, const char *name, void *value, unsigned long size) {
    return (long long)lgetxattr(path, name, value, size);
}
int cln_remove_xattr(int fd, const char *name) { return fremovexattr(fd, name); }

int cln_rename_noreplace(const char *from, const char *to) {
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
    if (link(from, to) != 0) return -1;
    return unlink(from);
}

long long cln_first_hole(int fd) { return (long long)lseek(fd, 0, SEEK_HOLE); }

int cln_cpu_setsize(void) { return CPU_SETSIZE; }

int cln_allowed_cpus(int *out, int max) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -errno;
    int count = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && count < max; cpu++) {
        if (CPU_ISSET(cpu, &set)) out[count++] = cpu;
    }
    return count;
}

/// Fills `set` from the array; EINVAL for a number outside the set's range (CPU_SET would write
/// out of bounds), so a caller that skipped its checks still gets an error, not a corrupt stack.
static int cln_fill_cpu_set(cpu_set_t *set, const int *cpus, int count) {
    CPU_ZERO(set);
    for (int i = 0; i < count; i++) {
        if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) return EINVAL;
        CPU_SET(cpus[i], set);
    }
    return 0;
}

int cln_pin_current_thread(const int *cpus, int count) {
    cpu_set_t set;
    int rc = cln_fill_cpu_set(&set, cpus, count);
    if (rc != 0) return rc;
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno;
}

int cln_attr_set_cpus(void *attr, const int *cpus, int count) {
    cpu_set_t set;
    int rc = cln_fill_cpu_set(&set, cpus, count);
    if (rc != 0) return rc;
    return pthread_attr_setaffinity_np((pthread_attr_t *)attr, sizeof set, &set);
}

int cln_current_cpu(void) { return sched_getcpu(); }

const char *cln_errno_name(int code) { return strerrorname_np(code); }

unsigned long long cln_heap_in_use_bytes(void) {
    struct mallinfo2 info = mallinfo2();
    return (unsigned long long)info.uordblks + (unsigned long long)info.hblkhd;
}
