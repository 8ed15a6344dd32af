#include "CFDHolder.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define BATCH 250

int fdholder_start(int *child_pid) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(pair[0]);
        for (;;) {
            char tag = 0;
            char control[CMSG_SPACE(sizeof(int) * BATCH)];
            struct iovec iov = { &tag, 1 };
            struct msghdr msg;
            memset(&msg, 0, sizeof msg);
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            ssize_t n = recvmsg(pair[1], &msg, 0);
            if (n <= 0 || tag == 'q') _exit(0);  // the descriptors it received stay open until here
        }
    }
    close(pair[1]);
    *child_pid = (int)pid;
    return pair[0];
}

int fdholder_send(int control, const int *fds, int count) {
    if (count <= 0 || count > BATCH) { errno = EINVAL; return -1; }
    char tag = 'f';
    char buffer[CMSG_SPACE(sizeof(int) * BATCH)];
    memset(buffer, 0, sizeof buffer);
    struct iovec iov = { &tag, 1 };
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = buffer;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
    struct cmsghdr *header = CMSG_FIRSTHDR(&msg);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * count);
    memcpy(CMSG_DATA(header), fds, sizeof(int) * count);
    return sendmsg(control, &msg, 0) == 1 ? 0 : -1;
}

void fdholder_stop(int control, int child_pid) {
    char tag = 'q';
    (void)send(control, &tag, 1, 0);
    close(control);
    int status = 0;
    (void)waitpid((pid_t)child_pid, &status, 0);
}
