/*
 * LD_PRELOAD shim that makes wrk present a client certificate: wrk has no option for one. Every
 * SSL_CTX that wrk creates an SSL from is given the chain and key named by the environment
 * (WRK_CLIENT_CERT, WRK_CLIENT_KEY) once, before the first handshake. Without the variables it does
 * nothing. Built by bench/lib/wrk.ts with the system compiler against the system OpenSSL.
 *
 * With WRK_TLS_RESUME=0 every connection is a full handshake: wrk reuses one SSL per connection slot
 * (SSL_clear between connections keeps its session, so a reconnect offers it back and a server
 * that accepts it does an abbreviated handshake). The shim drops that session before each connect.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <openssl/ssl.h>

SSL *SSL_new(SSL_CTX *ctx) {
    static SSL *(*next_ssl_new)(SSL_CTX *) = NULL;
    static SSL_CTX *prepared = NULL;
    if (next_ssl_new == NULL) next_ssl_new = (SSL *(*)(SSL_CTX *))dlsym(RTLD_NEXT, "SSL_new");
    if (ctx != prepared) {
        const char *cert = getenv("WRK_CLIENT_CERT");
        const char *key = getenv("WRK_CLIENT_KEY");
        if (cert != NULL && key != NULL) {
            if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 || SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
                fprintf(stderr, "wrk-client-cert: cannot load %s / %s\n", cert, key);
                exit(2);
            }
        }
        prepared = ctx;
    }
    return next_ssl_new(ctx);
}

int SSL_connect(SSL *ssl) {
    static int (*next_ssl_connect)(SSL *) = NULL;
    if (next_ssl_connect == NULL) next_ssl_connect = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_connect");
    const char *resume = getenv("WRK_TLS_RESUME");
    /* Only before a handshake starts: wrk calls SSL_connect again while one is in progress. */
    if (resume != NULL && resume[0] == '0' && SSL_in_before(ssl)) SSL_set_session(ssl, NULL);
    return next_ssl_connect(ssl);
}
