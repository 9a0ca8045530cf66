/*
 * token.c - JWT issue/verify on libjwt (see token.h).
 *
 * libjwt 1.10 verifies signatures but has no claim validation and chooses
 * the algorithm from the token itself, so before calling jwt_decode we read
 * the header ourselves: alg must be exactly "HS256" and kid must name one of
 * our keys.  Only then does libjwt check the signature with that key.
 */
#include "token.h"
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <jwt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLOCK_SKEW_S 60

static int load_key(struct token_key *key, const char *kid, const char *path, struct bt_err *err)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f)
        return err_internal(err, "cannot read JWT key file %s: %s", path, strerror(errno));
    n = fread(key->secret, 1, sizeof(key->secret), f);
    fclose(f);
    while (n > 0 && (key->secret[n - 1] == '\n' || key->secret[n - 1] == '\r'))
        n--;
    if (n < 32)
        return err_internal(err, "JWT key file %s holds %zu bytes; at least 32 are required", path,
                            n);
    key->len = n;
    snprintf(key->kid, sizeof(key->kid), "%s", kid);
    return BT_OK;
}

#define TOKEN_CACHE_SLOTS 64 /* direct-mapped: a worker serves few clients at a time */

struct token_cache {
    struct {
        char token[TOKEN_MAX_LEN];
        struct token_claims c;
    } slot[TOKEN_CACHE_SLOTS];
};

int token_cache_enable(struct token_keys *k)
{
    if (!k->cache)
        k->cache = calloc(1, sizeof(*k->cache));
    return k->cache ? BT_OK : BT_ERR;
}

void token_cache_free(struct token_keys *k)
{
    if (k->cache)
        sodium_memzero(k->cache, sizeof(*k->cache)); /* bearer tokens */
    free(k->cache);
    k->cache = NULL;
}

/* FNV-1a: only spreads tokens over the slots; a hit compares the text. */
static size_t cache_slot(const char *token)
{
    uint64_t h = 1469598103934665603ull;

    for (const unsigned char *p = (const unsigned char *)token; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)(h % TOKEN_CACHE_SLOTS);
}

int token_keys_load(struct token_keys *k, const struct config *cfg, struct bt_err *err)
{
    memset(k, 0, sizeof(*k));
    if (load_key(&k->cur, cfg->jwt_kid, cfg->jwt_secret_file, err) != BT_OK)
        return BT_ERR;
    if (cfg->jwt_prev_secret_file[0]) {
        if (load_key(&k->prev, cfg->jwt_prev_kid, cfg->jwt_prev_secret_file, err) != BT_OK)
            return BT_ERR;
        k->has_prev = true;
    }
    snprintf(k->iss, sizeof(k->iss), "%s", cfg->jwt_issuer);
    snprintf(k->aud, sizeof(k->aud), "%s", cfg->jwt_audience);
    k->ttl_s = cfg->access_ttl_s;
    if (token_cache_enable(k) != BT_OK)
        return err_internal(err, "out of memory for the token cache");
    return BT_OK;
}

int token_issue(const struct token_keys *k, struct token_claims *c, int64_t now, char *out,
                size_t outsz, struct bt_err *err)
{
    unsigned char rnd[16];
    char sub[24];
    jwt_t *jwt = NULL;
    char *s = NULL;
    int rc = BT_ERR;

    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(c->jti, sizeof(c->jti), rnd, sizeof(rnd));
    c->iat = now;
    c->exp = now + k->ttl_s;
    snprintf(sub, sizeof(sub), "%" PRId64, c->sub);
    if (jwt_new(&jwt) != 0)
        goto out;
    if (jwt_add_grant(jwt, "sub", sub) || jwt_add_grant(jwt, "role", c->role) ||
        jwt_add_grant_int(jwt, "cid", (long)c->cid) ||
        jwt_add_grant_int(jwt, "wid", (long)c->wid) || jwt_add_grant_bool(jwt, "gst", c->guest) ||
        jwt_add_grant_int(jwt, "iat", (long)c->iat) ||
        jwt_add_grant_int(jwt, "exp", (long)c->exp) || jwt_add_grant(jwt, "jti", c->jti) ||
        jwt_add_grant(jwt, "iss", k->iss) || jwt_add_grant(jwt, "aud", k->aud) ||
        jwt_add_header(jwt, "kid", k->cur.kid))
        goto out;
    if (jwt_set_alg(jwt, JWT_ALG_HS256, k->cur.secret, (int)k->cur.len) != 0)
        goto out;
    s = jwt_encode_str(jwt);
    if (!s || strlen(s) >= outsz)
        goto out;
    memcpy(out, s, strlen(s) + 1);
    rc = BT_OK;
out:
    free(s);
    jwt_free(jwt);
    if (rc != BT_OK)
        err_internal(err, "cannot sign an access token");
    return rc;
}

static int unauthorized(struct bt_err *err, const char *why)
{
    return err_set(err, 401, "unauthorized", "invalid access token: %s", why);
}

/* Decodes the JOSE header and returns the key its kid names (NULL if none),
 * refusing anything but alg HS256. */
static const struct token_key *header_key(const struct token_keys *k, const char *jwt,
                                          const char **why)
{
    const char *dot = strchr(jwt, '.');
    unsigned char hdr[512];
    size_t hlen = 0;
    struct json_object *o, *alg, *kid;
    const struct token_key *key = NULL;

    *why = "malformed";
    if (!dot || (size_t)(dot - jwt) > 600)
        return NULL;
    if (sodium_base642bin(hdr, sizeof(hdr) - 1, jwt, (size_t)(dot - jwt), NULL, &hlen, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return NULL;
    hdr[hlen] = '\0';
    o = json_tokener_parse((const char *)hdr);
    if (!o || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return NULL;
    }
    *why = "algorithm not allowed";
    if (json_object_object_get_ex(o, "alg", &alg) && json_object_is_type(alg, json_type_string) &&
        strcmp(json_object_get_string(alg), "HS256") == 0) {
        *why = "unknown key";
        if (json_object_object_get_ex(o, "kid", &kid) &&
            json_object_is_type(kid, json_type_string)) {
            const char *id = json_object_get_string(kid);
            if (strcmp(id, k->cur.kid) == 0)
                key = &k->cur;
            else if (k->has_prev && strcmp(id, k->prev.kid) == 0)
                key = &k->prev;
        }
    }
    json_object_put(o);
    return key;
}

static bool aud_matches(jwt_t *jwt, const char *aud)
{
    const char *s = jwt_get_grant(jwt, "aud");
    char *arr;
    bool ok = false;

    if (s)
        return strcmp(s, aud) == 0;
    arr = jwt_get_grants_json(jwt, "aud"); /* array form */
    if (arr) {
        struct json_object *o = json_tokener_parse(arr);
        size_t i;
        if (o && json_object_is_type(o, json_type_array)) {
            for (i = 0; i < json_object_array_length(o); i++) {
                struct json_object *e = json_object_array_get_idx(o, i);
                if (json_object_is_type(e, json_type_string) &&
                    strcmp(json_object_get_string(e), aud) == 0)
                    ok = true;
            }
        }
        json_object_put(o);
        free(arr);
    }
    return ok;
}

int token_verify(const struct token_keys *k, const char *token, int64_t now,
                 struct token_claims *out, struct bt_err *err)
{
    const struct token_key *key;
    const char *why, *s;
    size_t slot;
    jwt_t *jwt = NULL;
    char *end;
    long v;
    int rc = BT_ERR;

    memset(out, 0, sizeof(*out));
    if (strlen(token) >= TOKEN_MAX_LEN)
        return unauthorized(err, "too long");
    slot = k->cache ? cache_slot(token) : 0;
    if (k->cache && k->cache->slot[slot].c.exp > now &&
        strcmp(k->cache->slot[slot].token, token) == 0) {
        *out = k->cache->slot[slot].c;
        return BT_OK;
    }
    key = header_key(k, token, &why);
    if (!key)
        return unauthorized(err, why);
    if (jwt_decode(&jwt, token, key->secret, (int)key->len) != 0 || !jwt)
        return unauthorized(err, "bad signature");
    if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
        rc = unauthorized(err, "algorithm not allowed");
        goto out;
    }
    s = jwt_get_grant(jwt, "iss");
    if (!s || strcmp(s, k->iss) != 0) {
        rc = unauthorized(err, "wrong issuer");
        goto out;
    }
    if (!aud_matches(jwt, k->aud)) {
        rc = unauthorized(err, "wrong audience");
        goto out;
    }
    errno = 0;
    v = jwt_get_grant_int(jwt, "exp");
    if (errno || v <= now) {
        rc = unauthorized(err, "expired");
        goto out;
    }
    out->exp = v;
    errno = 0;
    v = jwt_get_grant_int(jwt, "iat");
    if (errno || v > now + CLOCK_SKEW_S) {
        rc = unauthorized(err, "issued in the future");
        goto out;
    }
    out->iat = v;
    s = jwt_get_grant(jwt, "sub");
    if (!s || !*s || (out->sub = strtoll(s, &end, 10)) <= 0 || *end) {
        rc = unauthorized(err, "bad subject");
        goto out;
    }
    s = jwt_get_grant(jwt, "role");
    if (!s || (strcmp(s, "player") != 0 && strcmp(s, "admin") != 0)) {
        rc = unauthorized(err, "bad role");
        goto out;
    }
    snprintf(out->role, sizeof(out->role), "%s", s);
    errno = 0;
    out->cid = jwt_get_grant_int(jwt, "cid");
    if (errno)
        out->cid = 0;
    errno = 0;
    out->wid = jwt_get_grant_int(jwt, "wid");
    if (errno)
        out->wid = 0;
    errno = 0;
    out->guest = jwt_get_grant_bool(jwt, "gst") == 1;
    s = jwt_get_grant(jwt, "jti");
    snprintf(out->jti, sizeof(out->jti), "%s", s ? s : "");
    rc = BT_OK;
    if (k->cache) {
        snprintf(k->cache->slot[slot].token, sizeof(k->cache->slot[slot].token), "%s", token);
        k->cache->slot[slot].c = *out;
    }
out:
    if (rc != BT_OK)
        memset(out, 0, sizeof(*out)); /* a refused token yields no claims at all */
    jwt_free(jwt);
    return rc;
}
