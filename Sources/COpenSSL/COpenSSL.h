// OpenSSL 3 for Swift: the headers, plus static-inline wrappers for the API that OpenSSL
// defines as macros or variadic functions (Swift imports neither).
#ifndef COPENSSL_H
#define COPENSSL_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <string.h>

// SSL_set_tlsext_host_name is a macro over SSL_ctrl.
static inline int copenssl_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

// SSL_CTX_set_min_proto_version is a macro over SSL_CTX_ctrl.
static inline int copenssl_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

// SSL_CTX_set_mode is a macro over SSL_CTX_ctrl; returns the new mode bits.
static inline long copenssl_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

// SSL_OP_* are built with SSL_OP_BIT, a function-like macro Swift does not evaluate.
static inline uint64_t copenssl_SSL_OP_IGNORE_UNEXPECTED_EOF(void) { return SSL_OP_IGNORE_UNEXPECTED_EOF; }
static inline uint64_t copenssl_SSL_OP_NO_RENEGOTIATION(void) { return SSL_OP_NO_RENEGOTIATION; }

// MBSTRING_ASC is an expression macro; a function keeps its type plain int.
static inline int copenssl_MBSTRING_ASC(void) { return MBSTRING_ASC; }

// EVP_EC_gen is a macro over the variadic EVP_PKEY_Q_keygen.
static inline EVP_PKEY *copenssl_EVP_EC_gen(const char *curve) {
    return EVP_EC_gen(curve);
}

// SSL_CTX_set_max_proto_version is a macro over SSL_CTX_ctrl (test servers cap their version).
static inline int copenssl_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

// The passphrase of an encrypted PEM key, from the callback's user data. Without a passphrase
// it refuses (-1): OpenSSL's default callback would prompt on the terminal instead.
static int copenssl_passphrase_callback(char *buf, int size, int rwflag, void *userdata) {
    (void)rwflag;
    const char *passphrase = (const char *)userdata;
    if (passphrase == NULL) return -1;
    size_t length = strlen(passphrase);
    if (length > (size_t)size) return -1;
    memcpy(buf, passphrase, length);
    return (int)length;
}

// Sets (or with NULL, clears) the passphrase used while loading keys into ctx; the string
// must live until the key is loaded and the passphrase cleared.
static inline void copenssl_SSL_CTX_set_passphrase(SSL_CTX *ctx, const char *passphrase) {
    SSL_CTX_set_default_passwd_cb(ctx, copenssl_passphrase_callback);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)passphrase);
}

// A server's ALPN protocols in wire format (length-prefixed names), most preferred first.
typedef struct {
    unsigned char *bytes;
    unsigned int length;
} copenssl_alpn_list;

// Picks the server's most preferred protocol the client offered; none in common: no ALPN.
static int copenssl_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                                unsigned int inlen, void *arg) {
    (void)ssl;
    const copenssl_alpn_list *list = (const copenssl_alpn_list *)arg;
    unsigned char *selected = NULL;
    unsigned char selectedLength = 0;
    if (SSL_select_next_proto(&selected, &selectedLength, list->bytes, list->length, in, inlen) != OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_NOACK;
    }
    *out = selected;
    *outlen = selectedLength;
    return SSL_TLSEXT_ERR_OK;
}

// Makes a server context choose among `list` (which must outlive ctx).
static inline void copenssl_SSL_CTX_set_alpn_server_list(SSL_CTX *ctx, copenssl_alpn_list *list) {
    SSL_CTX_set_alpn_select_cb(ctx, copenssl_alpn_select, list);
}

// STACK_OF(X509) accessors are macros over the generic stack.
static inline int copenssl_sk_X509_num(const STACK_OF(X509) *chain) { return sk_X509_num(chain); }
static inline X509 *copenssl_sk_X509_value(const STACK_OF(X509) *chain, int index) { return sk_X509_value(chain, index); }

#endif
