// libbrotli from Debian (libbrotli-dev): the br content coding. The client decodes; the
// encoder is for the project's test server.
#include <brotli/decode.h>
#include <brotli/encode.h>
