// Every libev wrapper is static inline in include/CLibevShim.h; here live the thread-local and
// the wrappers that need _GNU_SOURCE.
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include "CLibevShim.h"

// initial-exec: a plain %fs-relative load, not a __tls_get_addr call, on every enqueue.
__attribute__((tls_model("initial-exec"))) _Thread_local void *cev_tls_current_loop = 0;

int cev_accept_nonblocking(int fd) { return accept4(fd, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC); }

void cev_fdset_clear(void *set) { FD_ZERO((fd_set *)set); }
void cev_fdset_add(void *set, int fd) { FD_SET(fd, (fd_set *)set); }
int cev_fdset_has(const void *set, int fd) { return FD_ISSET(fd, (const fd_set *)set); }
int cev_fdset_capacity(void) { return FD_SETSIZE; }

int cev_gettid(void) { return (int)syscall(SYS_gettid); }

int cev_start_writeback(int fd, long long offset, long long length) {
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
}

int cev_o_direct(void) { return O_DIRECT; }

int cev_reserve_space(int fd, long long length) { return fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, length); }
