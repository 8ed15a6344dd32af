// Every wrapper is static inline in include/CLibevShim.h; only the thread-local lives here.
#include "CLibevShim.h"

_Thread_local void *cev_tls_current_loop = 0;
