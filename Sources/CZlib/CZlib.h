// zlib from Debian (zlib1g-dev): gzip and deflate content codings.
#include <zlib.h>
