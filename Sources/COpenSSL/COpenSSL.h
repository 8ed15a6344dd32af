// OpenSSL 3 for Swift: the headers, plus static-inline wrappers for the API that OpenSSL
// defines as macros (Swift imports functions, not function-like macros).
#ifndef COPENSSL_H
#define COPENSSL_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#endif
