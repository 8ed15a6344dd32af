// C functions for the Linux and libc calls Swift cannot make directly: macros (FD_SET, CPU_SET),
// calls declared only under _GNU_SOURCE (accept4, gettid, fallocate, sync_file_range, renameat2,
// SEEK_HOLE, O_DIRECT, CPU affinity), and a C thread-local. No logic lives here.
//
// Reached only through NetCore's Swift wrappers (SystemCalls, FileSystemCalls, ThreadIdentity,
// MonotonicClock, CPUPlacement, Poll): no other module imports this one.
#ifndef CLINUXSHIM_H
#define CLINUXSHIM_H

#include <time.h>

/// A clock for the watchdog: CLOCK_MONOTONIC_COARSE costs a few nanoseconds (no vDSO arithmetic)
/// at a resolution of one scheduler tick, plenty for thresholds measured in milliseconds.
static inline long long cln_coarse_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
/// CLOCK_MONOTONIC in nanoseconds: the clock of every timed wait in the project.
static inline long long cln_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/// The loop that is running on this thread (inside run() or pump()), or NULL.
/// A C thread-local because Swift has no thread-local storage of its own.
extern __attribute__((tls_model("initial-exec"))) _Thread_local void *cln_tls_current_loop;
static inline void *cln_current_loop(void) { return cln_tls_current_loop; }
static inline void cln_set_current_loop(void *loop) { cln_tls_current_loop = loop; }

/// accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC): the accepted socket is non-blocking
/// and close-on-exec in one call. Returns the descriptor, or -1 with errno.
int cln_accept_nonblocking(int fd);

/// FD_SET and friends are macros; these take the fd_set as void * so that this header does not
/// pull <sys/select.h> into the module (Swift gets fd_set itself from Glibc).
void cln_fdset_clear(void *set);
void cln_fdset_add(void *set, int fd);
int cln_fdset_has(const void *set, int fd);
int cln_fdset_capacity(void);

/// The calling thread's kernel id (gettid).
int cln_gettid(void);

/// pthread_setname_np for the calling thread, cut to the kernel's 15 bytes (longer names would
/// be refused with ERANGE): the name `top -H`, gdb and /proc/self/task/TID/comm show.
/// Returns 0 or the errno.
int cln_set_current_thread_name(const char *name);

/// sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE): start writing a file range back to
/// disk without waiting. Returns 0, or -1 with errno.
int cln_start_writeback(int fd, long long offset, long long length);

/// fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, length): reserve a file's blocks without changing its
/// size. Returns 0, or -1 with errno.
int cln_reserve_space(int fd, long long length);

/// The O_DIRECT open flag (its value differs between architectures).
int cln_o_direct(void);

/// fsetxattr(fd, name, value, size, 0): sets an extended attribute. Returns 0, or -1 with errno
/// (ENOTSUP where the file system keeps no user attributes).
int cln_set_xattr(int fd, const char *name, const void *value, unsigned long size);

/// lgetxattr(path, name, value, size): an extended attribute's bytes (a link's own, never its
/// target's). Returns the length, or -1 with errno (ENODATA when it is not set).
long long cln_get_xattr(const char *path, const char *name, void *value, unsigned long size);

/// fremovexattr(fd, name). Returns 0, or -1 with errno.
int cln_remove_xattr(int fd, const char *name);

/// renameat2(from, to, RENAME_NOREPLACE): rename that fails with EEXIST instead of replacing
/// `to`. Where the file system cannot (EINVAL, ENOSYS), link(2) then unlink(2), which also never
/// replaces. Returns 0, or -1 with errno.
int cln_rename_noreplace(const char *from, const char *to);

/// lseek(fd, 0, SEEK_HOLE): the offset of the first hole (the file's size when it has none).
/// Returns the offset, or -1 with errno.
long long cln_first_hole(int fd);

/// Thread placement on CPUs (sched_setaffinity and the CPU_SET macros). A CPU set is passed as
/// an array of CPU numbers; every number must lie in [0, cln_cpu_setsize()), the callers check
/// that first.

/// CPU_SETSIZE: one more than the highest CPU number the functions below can name (1024 in glibc).
int cln_cpu_setsize(void);

/// sched_getaffinity for the calling thread: writes the CPUs it may run on, lowest first, to `out`
/// (at most `max` of them). Returns how many it wrote, or -errno (EINVAL only on a machine with
/// more than cln_cpu_setsize() possible CPUs).
int cln_allowed_cpus(int *out, int max);

/// sched_setaffinity for the calling thread: it runs only on `cpus` from now on, and threads it
/// creates inherit that. Returns 0, or the errno: EINVAL when no CPU of the set is online and in
/// the process's allowed set (the kernel quietly drops those that are not, if any remain), or a
/// number is out of range.
int cln_pin_current_thread(const int *cpus, int count);

/// pthread_attr_setaffinity_np: a thread created with `attr` (a pthread_attr_t *, passed as
/// void * so that this header does not pull <pthread.h> into the module) starts on `cpus` only;
/// glibc applies the set while creating the thread, so a set the kernel refuses makes
/// pthread_create fail with EINVAL before the thread runs any code. Returns 0 or the errno.
int cln_attr_set_cpus(void *attr, const int *cpus, int count);

/// sched_getcpu: the CPU the calling thread ran on at the moment of the call, or -1.
int cln_current_cpu(void);

/// strerrorname_np (glibc 2.32+): errno's symbolic name ("ECONNRESET"), or NULL for a code glibc
/// does not know.
const char *cln_errno_name(int code);

/// glibc's mallinfo2: bytes malloc has handed out and not had back, over every arena (the
/// small-block bytes in use plus the mmapped large blocks). Takes each arena's lock once.
unsigned long long cln_heap_in_use_bytes(void);

#endif
