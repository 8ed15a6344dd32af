// libzstd from Debian (libzstd-dev): the zstd content coding (RFC 8878).
#include <zstd.h>
