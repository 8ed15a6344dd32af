// Every libev wrapper is static inline in include/CLibevShim.h; SwiftPM needs one source file
// to build the target.
#include "CLibevShim.h"
