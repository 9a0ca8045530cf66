/*
 * token.h - access tokens: HS256 JWTs issued and verified with libjwt.
 *
 * Keys come from files named by the configuration (>= 32 bytes each): the
 * current key signs, and the current or the previous key verifies, chosen
 * by the token's "kid" header, so keys rotate without logging anyone out.
 * Verification pins the algorithm to HS256 before any signature check (no
 * "none", no algorithm confusion), then checks signature, iss, aud, exp and
 * iat.  Claims: sub (user id, string), role, cid (company), wid (world),
 * gst (guest), iat, exp, jti, iss, aud.
 */
#ifndef BT_TOKEN_H
#define BT_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"

struct config;

#define TOKEN_KEY_MAX 256
#define TOKEN_MAX_LEN 2048

struct token_key {
    char kid[32];
    unsigned char secret[TOKEN_KEY_MAX];
    size_t len;
};

struct token_cache;

struct token_keys {
    struct token_key cur;
    struct token_key prev;
    bool has_prev;
    char iss[64];
    char aud[64];
    int ttl_s;
    /* Tokens this process verified (token_cache_enable; NULL = none): a
     * client sends the same access token with every request until it
     * expires, and the signature check and claim parsing were a quarter of
     * a handler's own CPU.  A hit needs the identical token text and an
     * unexpired exp; every other check already passed for that text. */
    struct token_cache *cache;
};

struct token_claims {
    int64_t sub;
    char role[16];
    int64_t cid;
    int64_t wid;
    bool guest;
    int64_t iat;
    int64_t exp;
    char jti[40];
};

/* Gives k a cache of verified tokens (token_keys_load does); BT_ERR when
 * out of memory.  token_cache_free releases it. */
int token_cache_enable(struct token_keys *k);
void token_cache_free(struct token_keys *k);

/* Reads the key files named in cfg.  Fails (with the file name) when a key is
 * missing or shorter than 32 bytes. */
int token_keys_load(struct token_keys *k, const struct config *cfg, struct bt_err *err);

/* Signs claims (iat/exp/jti are filled in from now and ttl) into out. */
int token_issue(const struct token_keys *k, struct token_claims *c, int64_t now, char *out,
                size_t outsz, struct bt_err *err);

/* Verifies a compact JWT.  Any failure is a 401 with a short reason. */
int token_verify(const struct token_keys *k, const char *jwt, int64_t now, struct token_claims *out,
                 struct bt_err *err);

#endif
