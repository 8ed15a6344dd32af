// Function wrappers for libev's macro API (ev_io_init, ev_timer_init, ...), which Swift cannot call.
// Static inline so that Swift's optimiser sees through them: they cost nothing at run time.
// libev wrappers only: no logic, and no Linux or libc calls (those live in CLinuxShim).
#ifndef CLIBEVSHIM_H
#define CLIBEVSHIM_H

#include "../../CLibev/CLibev.h"

typedef void (*cev_io_cb)(struct ev_loop *loop, ev_io *w, int revents);
typedef void (*cev_timer_cb)(struct ev_loop *loop, ev_timer *w, int revents);
typedef void (*cev_async_cb)(struct ev_loop *loop, ev_async *w, int revents);

static inline void cev_io_init(ev_io *w, cev_io_cb cb, int fd, int events) { ev_io_init(w, cb, fd, events); }
static inline int cev_io_is_active(const ev_io *w) { return ev_is_active(w); }

static inline void cev_timer_init(ev_timer *w, cev_timer_cb cb, double after, double repeat) {
    ev_timer_init(w, cb, after, repeat);
}
static inline int cev_timer_is_active(const ev_timer *w) { return ev_is_active(w); }

static inline void cev_async_init(ev_async *w, cev_async_cb cb) { ev_async_init(w, cb); }

/// Backend flags, re-exported as plain functions because Swift imports the anonymous enum awkwardly.
static inline unsigned int cev_backend_select(void) { return EVBACKEND_SELECT; }
static inline unsigned int cev_backend_poll(void) { return EVBACKEND_POLL; }
static inline unsigned int cev_backend_epoll(void) { return EVBACKEND_EPOLL; }
static inline unsigned int cev_flag_noenv(void) { return EVFLAG_NOENV; }

#endif
