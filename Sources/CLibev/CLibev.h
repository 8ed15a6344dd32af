// The system libev, as Debian's libev-dev installs it (no libev.pc: the module map links `ev` by name).
// EV_COMPAT3 is off so that the 3.x compatibility function `ev_loop()` does not clash with
// `struct ev_loop` when Swift imports the header.
#ifndef CLIBEV_H
#define CLIBEV_H
#define EV_COMPAT3 0
#include <ev.h>
#endif
