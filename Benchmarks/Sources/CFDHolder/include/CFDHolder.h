// A child process that holds socket descriptors for the parked-tasklet memory benchmark.
//
// The open-files limit here is 20,000 and cannot be raised, so, like the gevent/uvloop anchor
// (Benchmarks/Anchors/python/parked.py), the benchmark passes the peer end of every socket pair
// to this holder (SCM_RIGHTS) and closes it locally: the benchmark process then holds exactly
// one descriptor per parked tasklet.
#ifndef CFDHOLDER_H
#define CFDHOLDER_H

/// Forks the holder. Returns the parent's end of the control socket, or -1 with errno set.
/// Call before the process starts extra threads where possible; the child only calls
/// async-signal-safe functions (recvmsg, _exit).
int fdholder_start(int *child_pid);

/// Sends `count` descriptors to the holder (at most 250 per call). Returns 0, or -1 with errno.
int fdholder_send(int control, const int *fds, int count);

/// Tells the holder to close everything and exit, and reaps it.
void fdholder_stop(int control, int child_pid);

#endif
