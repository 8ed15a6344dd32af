// Function wrappers for libev's macro API (ev_io_init, ev_timer_init, ...), which Swift cannot call.
// Static inline so that Swift's optimiser sees through them: they cost nothing at run time.
// No logic lives here.
#ifndef CLIBEVSHIM_H
#define CLIBEVSHIM_H

#include "../../CLibev/CLibev.h"
#include <time.h>

typedef void (*cev_io_cb)(struct ev_loop *loop, ev_io *w, int revents);
typedef void (*cev_timer_cb)(struct ev_loop *loop, ev_timer *w, int revents);
typedef void (*cev_async_cb)(struct ev_loop *loop, ev_async *w, int revents);

static inline void cev_io_init(ev_io *w, cev_io_cb cb, int fd, int events) { ev_io_init(w, cb, fd, events); }
static inline void cev_io_set(ev_io *w, int fd, int events) { ev_io_set(w, fd, events); }
static inline int cev_io_is_active(const ev_io *w) { return ev_is_active(w); }

static inline void cev_timer_init(ev_timer *w, cev_timer_cb cb, double after, double repeat) {
    ev_timer_init(w, cb, after, repeat);
}
static inline void cev_timer_set(ev_timer *w, double after, double repeat) { ev_timer_set(w, after, repeat); }
static inline int cev_timer_is_active(const ev_timer *w) { return ev_is_active(w); }

static inline void cev_async_init(ev_async *w, cev_async_cb cb) { ev_async_init(w, cb); }

/// Backend flags, re-exported as plain functions because Swift imports the anonymous enum awkwardly.
static inline unsigned int cev_backend_select(void) { return EVBACKEND_SELECT; }
static inline unsigned int cev_backend_poll(void) { return EVBACKEND_POLL; }
static inline unsigned int cev_backend_epoll(void) { return EVBACKEND_EPOLL; }
static inline unsigned int cev_flag_noenv(void) { return EVFLAG_NOENV; }

/// A clock for the watchdog: CLOCK_MONOTONIC_COARSE costs a few nanoseconds (no vDSO arithmetic)
/// at a resolution of one scheduler tick, plenty for thresholds measured in milliseconds.
static inline long long cev_coarse_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
static inline long long cev_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/// The loop that is running on this thread (inside run() or pump()), or NULL.
/// A C thread-local because Swift has no thread-local storage of its own.
extern __attribute__((tls_model("initial-exec"))) _Thread_local void *cev_tls_current_loop;
static inline void *cev_current_loop(void) { return cev_tls_current_loop; }
static inline void cev_set_current_loop(void *loop) { cev_tls_current_loop = loop; }

/// accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC): the accepted socket is non-blocking
/// and close-on-exec in one call. Defined in the .c file, which can set _GNU_SOURCE.
int cev_accept_nonblocking(int fd);

/// FD_SET and friends are macros; these take the fd_set as void * so that this header does not
/// pull <sys/select.h> into the module (Swift gets fd_set itself from Glibc).
void cev_fdset_clear(void *set);
void cev_fdset_add(void *set, int fd);
int cev_fdset_has(const void *set, int fd);
int cev_fdset_capacity(void);

/// The calling thread's kernel id (gettid needs _GNU_SOURCE, so it is wrapped in the .c file).
int cev_gettid(void);

/// sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE): start writing a file range back to
/// disk without waiting (Linux; needs _GNU_SOURCE, so it is wrapped in the .c file).
/// Returns 0, or -1 with errno.
int cev_start_writeback(int fd, long long offset, long long length);

/// fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, length): reserve a file's blocks without changing its
/// size (Linux; needs _GNU_SOURCE). Returns 0, or -1 with errno.
int cev_reserve_space(int fd, long long length);

/// The O_DIRECT open flag (its value differs between architectures and needs _GNU_SOURCE).
int cev_o_direct(void);

/// renameat2(from, to, RENAME_NOREPLACE): rename that fails with EEXIST instead of replacing
/// `to` (Linux; needs _GNU_SOURCE). Where the file system cannot (EINVAL), link(2) then
/// unlink(2), which also never replaces. Returns 0, or -1 with errno.
int cev_rename_noreplace(const char *from, const char *to);

/// lseek(fd, 0, SEEK_HOLE): the offset of the first hole (the file's size when it has none).
/// SEEK_HOLE needs _GNU_SOURCE. Returns the offset, or -1 with errno.
long long cev_first_hole(int fd);

/// Thread placement on CPUs (sched_setaffinity and the CPU_SET macros need _GNU_SOURCE and are
/// macros, so they live in the .c file). A CPU set is passed as an array of CPU numbers; every
/// number must lie in [0, cev_cpu_setsize()), the callers check that first.

/// CPU_SETSIZE: one more than the highest CPU number the functions below can name (1024 in glibc).
int cev_cpu_setsize(void);

/// sched_getaffinity for the calling thread: writes the CPUs it may run on, lowest first, to `out`
/// (at most `max` of them). Returns how many it wrote, or -errno (EINVAL only on a machine with
/// more than cev_cpu_setsize() possible CPUs).
int cev_allowed_cpus(int *out, int max);

/// sched_setaffinity for the calling thread: it runs only on `cpus` from now on, and threads it
/// creates inherit that. Returns 0, or the errno: EINVAL when no CPU of the set is online and in
/// the process's allowed set (the kernel quietly drops those that are not, if any remain), or a
/// number is out of range.
int cev_pin_current_thread(const int *cpus, int count);

/// pthread_attr_setaffinity_np: a thread created with `attr` (a pthread_attr_t *, passed as
/// void * so that this header does not pull <pthread.h> into the module) starts on `cpus` only;
/// glibc applies the set while creating the thread, so a set the kernel refuses makes
/// pthread_create fail with EINVAL before the thread runs any code. Returns 0 or the errno.
int cev_attr_set_cpus(void *attr, const int *cpus, int count);

/// sched_getcpu: the CPU the calling thread ran on at the moment of the call, or -1.
int cev_current_cpu(void);

/// pthread_setname_np for the calling thread, cut to the kernel's 15 bytes (longer names would
/// be refused with ERANGE): the name `top -H`, gdb and /proc/self/task/TID/comm show.
/// Returns 0 or the errno.
int cev_set_current_thread_name(const char *name);

#endif
