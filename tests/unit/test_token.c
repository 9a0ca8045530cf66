/*
 * test_token.c - access tokens: issue/verify round trip, and everything an
 * attacker or a clock can do wrong: alg none, another algorithm, the wrong
 * key, an unknown kid, a tampered payload, expiry, iss/aud mismatch, bad
 * subject or role; key rotation (current + previous key); key files.
 *
 * Forged tokens are built by hand (base64url + HMAC-SHA256 from libsodium)
 * so that the tests do not depend on what libjwt is willing to produce.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "token.h"

#define NOW 1800000000LL

static void make_keys(struct token_keys *k, const char *kid, const char *secret,
                      const char *prev_kid, const char *prev_secret)
{
    memset(k, 0, sizeof(*k));
    snprintf(k->cur.kid, sizeof(k->cur.kid), "%s", kid);
    k->cur.len = strlen(secret);
    memcpy(k->cur.secret, secret, k->cur.len);
    if (prev_kid) {
        snprintf(k->prev.kid, sizeof(k->prev.kid), "%s", prev_kid);
        k->prev.len = strlen(prev_secret);
        memcpy(k->prev.secret, prev_secret, k->prev.len);
        k->has_prev = true;
    }
    snprintf(k->iss, sizeof(k->iss), "bitcoin-tycoon");
    snprintf(k->aud, sizeof(k->aud), "bitcoin-tycoon-api");
    k->ttl_s = 900;
}

static const char *const KEY1 = "0123456789abcdef0123456789abcdef-key-one";
static const char *const KEY2 = "fedcba9876543210fedcba9876543210-key-two";

static struct token_claims player(void)
{
    struct token_claims c;

    memset(&c, 0, sizeof(c));
    c.sub = 42;
    snprintf(c.role, sizeof(c.role), "player");
    c.cid = 7;
    c.wid = 1;
    c.guest = true;
    return c;
}

static void issue(const struct token_keys *k, struct token_claims *c, char *out)
{
    struct bt_err e;

    err_clear(&e);
    assert_int_equal(token_issue(k, c, NOW, out, TOKEN_MAX_LEN, &e), BT_OK);
}

/* Verifies; on failure checks the 401 and returns its detail. */
static const char *verify(const struct token_keys *k, const char *jwt, int64_t now,
                          struct token_claims *out)
{
    static struct bt_err e;

    err_clear(&e);
    if (token_verify(k, jwt, now, out, &e) == BT_OK) {
        assert_false(err_is_set(&e));
        return NULL;
    }
    assert_int_equal(e.status, 401);
    assert_string_equal(e.type, "unauthorized");
    return e.detail;
}

static void expect_rejected(const struct token_keys *k, const char *jwt, int64_t now,
                            const char *why)
{
    struct token_claims c;
    const char *d = verify(k, jwt, now, &c);

    if (!d)
        fail_msg("token accepted, expected '%s': %s", why, jwt);
    if (!strstr(d, why))
        fail_msg("detail '%s' should say '%s'", d, why);
    assert_int_equal(c.sub, 0); /* nothing half-filled */
}

static void b64(const void *bin, size_t n, char *out, size_t outsz)
{
    sodium_bin2base64(out, outsz, bin, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* header.payload.signature with HMAC-SHA256 over the first two (or an empty
 * signature when key is NULL). */
static void forge(const char *header, const char *payload, const char *key, char *out)
{
    char h[512], p[1024], s[64];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;

    b64(header, strlen(header), h, sizeof(h));
    b64(payload, strlen(payload), p, sizeof(p));
    snprintf(out, TOKEN_MAX_LEN, "%s.%s", h, p);
    s[0] = '\0';
    if (key) {
        crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)out, strlen(out));
        crypto_auth_hmacsha256_final(&st, mac);
        b64(mac, sizeof(mac), s, sizeof(s));
    }
    strcat(out, ".");
    strcat(out, s);
}

static void payload(char *out, size_t n, const char *sub, const char *role, const char *iss,
                    const char *aud_json, int64_t iat, int64_t exp)
{
    snprintf(out, n,
             "{\"sub\":\"%s\",\"role\":\"%s\",\"cid\":7,\"wid\":1,\"gst\":false,\"iat\":%lld,"
             "\"exp\":%lld,\"jti\":\"j\",\"iss\":\"%s\",\"aud\":%s}",
             sub, role, (long long)iat, (long long)exp, iss, aud_json);
}

static const char *const HDR = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}";

static void round_trip_keeps_every_claim(void **state)
{
    struct token_keys k;
    struct token_claims c = player(), got;
    char jwt[TOKEN_MAX_LEN];

    (void)state;
    make_keys(&k, "k1", KEY1, NULL, NULL);
    issue(&k, &c, jwt);
    assert_int_equal(c.iat, NOW);
    assert_int_equal(c.exp, NOW + 900);
    assert_int_equal(strlen(c.jti), 32);
    assert_null(verify(&k, jwt, NOW + 10, &got));
    assert_int_equal(got.sub, 42);
    assert_string_equal(got.role, "player");
    assert_int_equal(got.cid, 7);
    assert_int_equal(got.wid, 1);
    assert_true(got.guest);
    assert_int_equal(got.iat, NOW);
    assert_int_equal(got.exp, NOW + 900);
    assert_string_equal(got.jti, c.jti);
    /* two tokens never share a jti */
    {
        struct token_claims c2 = player();
        char jwt2[TOKEN_MAX_LEN];
        issue(&k, &c2, jwt2);
        assert_string_not_equal(c.jti, c2.jti);
    }
}

static void hand_made_token_with_the_right_key_verifies(void **state)
{
    struct token_keys k;
    struct token_claims got;
    char p[512], jwt[TOKEN_MAX_LEN];

    (void)state;
    /* proves the forging helper is right, so the rejections below mean something */
    make_keys(&k, "k1", KEY1, NULL, NULL);
    payload(p, sizeof(p), "5", "admin", "bitcoin-tycoon", "\"bitcoin-tycoon-api\"", NOW, NOW + 60);
    forge(HDR, p, KEY1, jwt);
    assert_null(verify(&k, jwt, NOW, &got));
    assert_int_equal(got.sub, 5);
    assert_string_equal(got.role, "admin");
    /* aud may also be an array containing ours */
    payload(p, sizeof(p), "5", "admin", "bitcoin-tycoon", "[\"x\",\"bitcoin-tycoon-api\"]", NOW,
            NOW + 60);
    forge(HDR, p, KEY1, jwt);
    assert_null(verify(&k, jwt, NOW, &got));
}

static void alg_none_and_other_algorithms_are_refused(void **state)
{
    struct token_keys k;
    char p[512], jwt[TOKEN_MAX_LEN];

    (void)state;
    make_keys(&k, "k1", KEY1, NULL, NULL);
    payload(p, sizeof(p), "5", "admin", "bitcoin-tycoon", "\"bitcoin-tycoon-api\"", NOW, NOW + 60);
    forge("{\"alg\":\"none\",\"kid\":\"k1\"}", p, NULL, jwt);
    expect_rejected(&k, jwt, NOW, "algorithm not allowed");
    forge("{\"alg\":\"None\",\"kid\":\"k1\"}", p, NULL, jwt);
    expect_rejected(&k, jwt, NOW, "algorithm not allowed");
    /* correctly signed with the key, but announcing another algorithm */
    forge("{\"alg\":\"HS512\",\"kid\":\"k1\"}", p, KEY1, jwt);
    expect_rejected(&k, jwt, NOW, "algorithm not allowed");
    forge("{\"alg\":\"RS256\",\"kid\":\"k1\"}", p, KEY1, jwt);
    expect_rejected(&k, jwt, NOW, "algorithm not allowed");
    forge("{\"kid\":\"k1\"}", p, KEY1, jwt);
    expect_rejected(&k, jwt, NOW, "algorithm not allowed");
}

static void wrong_key_or_kid_is_refused(void **state)
{
    struct token_keys k;
    char p[512], jwt[TOKEN_MAX_LEN];

    (void)state;
    make_keys(&k, "k1", KEY1, NULL, NULL);
    payload(p, sizeof(p), "5", "player", "bitcoin-tycoon", "\"bitcoin-tycoon-api\"", NOW, NOW + 60);
    forge(HDR, p, KEY2, jwt);
    expect_rejected(&k, jwt, NOW, "bad signature");
    forge("{\"alg\":\"HS256\",\"kid\":\"k9\"}", p, KEY1, jwt);
    expect_rejected(&k, jwt, NOW, "unknown key");
    forge("{\"alg\":\"HS256\"}", p, KEY1, jwt);
    expect_rejected(&k, jwt, NOW, "unknown key");
    forge("{\"alg\":\"HS256\",\"kid\":7}", p, KEY1, jwt);
    expect_rejected(&k, jwt, NOW, "unknown key");
}

static void tampered_payload_is_refused(void **state)
{
    struct token_keys k;
    struct token_claims c = player();
    char jwt[TOKEN_MAX_LEN], forged[TOKEN_MAX_LEN], p[512], pb[1024];
    const char *d1, *d2;

    (void)state;
    make_keys(&k, "k1", KEY1, NULL, NULL);
    issue(&k, &c, jwt);
    /* swap the payload for one claiming admin, keep header and signature */
    d1 = strchr(jwt, '.');
    d2 = strchr(d1 + 1, '.');
    payload(p, sizeof(p), "42", "admin", "bitcoin-tycoon", "\"bitcoin-tycoon-api\"", NOW,
            NOW + 900);
    b64(p, strlen(p), pb, sizeof(pb));
    snprintf(forged, sizeof(forged), "%.*s.%s%s", (int)(d1 - jwt), jwt, pb, d2);
    expect_rejected(&k, forged, NOW, "bad signature");
    /* a flipped signature character */
    snprintf(forged, sizeof(forged), "%s", jwt);
    forged[strlen(forged) - 2] = forged[strlen(forged) - 2] == 'A' ? 'B' : 'A';
    expect_rejected(&k, forged, NOW, "bad signature");
    /* the signature cut off */
    snprintf(forged, sizeof(forged), "%.*s.", (int)(d2 - jwt), jwt);
    expect_rejected(&k, forged, NOW, "bad signature");
}

static void garbage_is_refused(void **state)
{
    static const char *const junk[] = {
        "", "abc", "a.b.c", "..", "!!!.x.y", "eyJhbGciOiJIUzI1NiJ9", "e30.e30.e30"};
    struct token_keys k;
    char big[TOKEN_MAX_LEN + 10];
    struct token_claims c;

    (void)state;
    make_keys(&k, "k1", KEY1, NULL, NULL);
    for (size_t i = 0; i < BT_ARRAY_LEN(junk); i++)
        if (!verify(&k, junk[i], NOW, &c))
            fail_msg("'%s' was accepted", junk[i]);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    expect_rejected(&k, big, NOW, "too long");
}

static void time_claims_are_enforced(void **state)
{
    struct token_keys k;
    struct token_claims c = player(), got;
    char jwt[TOKEN_MAX_LEN];

    (void)state;
    make_keys(&k, "k1", KEY1, NULL, NULL);
    issue(&k, &c, jwt);
    assert_null(verify(&k, jwt, NOW + 899, &got));
    expect_rejected(&k, jwt, NOW + 900, "expired"); /* exp is exclusive */
    expect_rejected(&k, jwt, NOW + 100000, "expired");
    /* up to a minute of clock skew is tolerated for iat, not more */
    assert_null(verify(&k, jwt, NOW - 60, &got));
    expect_rejected(&k, jwt, NOW - 61, "issued in the future");
    forge(HDR,
          "{\"sub\":\"5\",\"role\":\"player\",\"iat\":1,\"iss\":\"bitcoin-tycoon\","
          "\"aud\":\"bitcoin-tycoon-api\"}",
          KEY1, jwt);
    expect_rejected(&k, jwt, NOW, "expired"); /* no exp at all */
}

static void issuer_and_audience_must_match(void **state)
{
    struct token_keys k, other;
    struct token_claims c = player();
    char jwt[TOKEN_MAX_LEN], p[512];

    (void)state;
    make_keys(&k, "k1", KEY1, NULL, NULL);
    other = k;
    snprintf(other.iss, sizeof(other.iss), "someone-else");
    issue(&other, &c, jwt);
    expect_rejected(&k, jwt, NOW, "wrong issuer");
    other = k;
    snprintf(other.aud, sizeof(other.aud), "another-api");
    issue(&other, &c, jwt);
    expect_rejected(&k, jwt, NOW, "wrong audience");
    payload(p, sizeof(p), "5", "player", "bitcoin-tycoon", "[\"another-api\"]", NOW, NOW + 60);
    forge(HDR, p, KEY1, jwt);
    expect_rejected(&k, jwt, NOW, "wrong audience");
}

static void subject_and_role_are_checked(void **state)
{
    static const char *const bad_subs[] = {"0", "-3", "", "12abc", "abc"};
    struct token_keys k;
    char jwt[TOKEN_MAX_LEN], p[512];

    (void)state;
    make_keys(&k, "k1", KEY1, NULL, NULL);
    for (size_t i = 0; i < BT_ARRAY_LEN(bad_subs); i++) {
        payload(p, sizeof(p), bad_subs[i], "player", "bitcoin-tycoon", "\"bitcoin-tycoon-api\"",
                NOW, NOW + 60);
        forge(HDR, p, KEY1, jwt);
        expect_rejected(&k, jwt, NOW, "bad subject");
    }
    payload(p, sizeof(p), "5", "root", "bitcoin-tycoon", "\"bitcoin-tycoon-api\"", NOW, NOW + 60);
    forge(HDR, p, KEY1, jwt);
    expect_rejected(&k, jwt, NOW, "bad role");
}

static void keys_rotate_without_logging_anyone_out(void **state)
{
    struct token_keys before, after, later;
    struct token_claims c = player(), got;
    char old_jwt[TOKEN_MAX_LEN], new_jwt[TOKEN_MAX_LEN];

    (void)state;
    make_keys(&before, "k1", KEY1, NULL, NULL);
    make_keys(&after, "k2", KEY2, "k1", KEY1); /* k2 signs, k1 still verifies */
    make_keys(&later, "k2", KEY2, NULL, NULL); /* k1 retired */
    issue(&before, &c, old_jwt);
    issue(&after, &c, new_jwt);
    assert_null(verify(&after, old_jwt, NOW, &got));
    assert_int_equal(got.sub, 42);
    assert_null(verify(&after, new_jwt, NOW, &got));
    expect_rejected(&before, new_jwt, NOW, "unknown key");
    expect_rejected(&later, old_jwt, NOW, "unknown key");
    assert_null(verify(&later, new_jwt, NOW, &got));
    /* the kid selects the key: a k2-labelled token signed with k1 fails */
    {
        char p[512], jwt[TOKEN_MAX_LEN];
        payload(p, sizeof(p), "5", "player", "bitcoin-tycoon", "\"bitcoin-tycoon-api\"", NOW,
                NOW + 60);
        forge("{\"alg\":\"HS256\",\"kid\":\"k2\"}", p, KEY1, jwt);
        expect_rejected(&after, jwt, NOW, "bad signature");
    }
}

static void key_files_are_loaded_and_checked(void **state)
{
    char cur[] = "/tmp/bt-key-XXXXXX", prev[] = "/tmp/bt-key-XXXXXX", shrt[] = "/tmp/bt-key-XXXXXX";
    int fc = mkstemp(cur), fp = mkstemp(prev), fs = mkstemp(shrt);
    struct config cfg;
    struct token_keys k;
    struct bt_err e;

    (void)state;
    assert_true(fc >= 0 && fp >= 0 && fs >= 0);
    assert_true(write(fc, KEY1, strlen(KEY1)) > 0 && write(fc, "\n", 1) == 1); /* newline trimmed */
    assert_true(write(fp, KEY2, strlen(KEY2)) > 0);
    assert_true(write(fs, "too-short-key\n", 14) == 14);
    close(fc);
    close(fp);
    close(fs);
    err_clear(&e);
    assert_int_equal(config_load(&cfg, NULL, &e), BT_OK);
    snprintf(cfg.jwt_secret_file, sizeof(cfg.jwt_secret_file), "%s", cur);
    snprintf(cfg.jwt_prev_secret_file, sizeof(cfg.jwt_prev_secret_file), "%s", prev);
    snprintf(cfg.jwt_prev_kid, sizeof(cfg.jwt_prev_kid), "k0");
    assert_int_equal(token_keys_load(&k, &cfg, &e), BT_OK);
    assert_int_equal(k.cur.len, strlen(KEY1));
    assert_memory_equal(k.cur.secret, KEY1, strlen(KEY1));
    assert_true(k.has_prev);
    assert_string_equal(k.prev.kid, "k0");
    assert_int_equal(k.ttl_s, cfg.access_ttl_s);
    assert_non_null(k.cache);
    token_cache_free(&k);
    snprintf(cfg.jwt_secret_file, sizeof(cfg.jwt_secret_file), "%s", shrt);
    assert_int_equal(token_keys_load(&k, &cfg, &e), BT_ERR);
    assert_non_null(strstr(e.internal, "at least 32"));
    snprintf(cfg.jwt_secret_file, sizeof(cfg.jwt_secret_file), "/nonexistent/key");
    err_clear(&e);
    assert_int_equal(token_keys_load(&k, &cfg, &e), BT_ERR);
    assert_non_null(strstr(e.internal, "/nonexistent/key"));
    unlink(cur);
    unlink(prev);
    unlink(shrt);
}

/* A verified token is served from the process's cache while it has not
 * expired, and only for its exact text. */
static void verified_tokens_are_cached_by_their_exact_text(void **state)
{
    struct token_keys k;
    struct token_claims c = player(), got;
    char jwt[TOKEN_MAX_LEN], bad[TOKEN_MAX_LEN];
    size_t n;

    (void)state;
    make_keys(&k, "k1", KEY1, NULL, NULL);
    assert_int_equal(token_cache_enable(&k), BT_OK);
    issue(&k, &c, jwt);
    assert_null(verify(&k, jwt, NOW + 10, &got)); /* verified, then cached */
    assert_null(verify(&k, jwt, NOW + 20, &got)); /* served from the cache */
    assert_int_equal(got.sub, 42);
    assert_string_equal(got.jti, c.jti);
    assert_int_equal(got.exp, NOW + 900);
    /* the same text once expired: refused, cached or not */
    assert_non_null(verify(&k, jwt, NOW + 900, &got));
    assert_int_equal(got.sub, 0);
    /* a changed signature is not the cached text: verified, and refused */
    n = strlen(jwt);
    memcpy(bad, jwt, n + 1);
    bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
    assert_non_null(verify(&k, bad, NOW + 30, &got));
    assert_null(verify(&k, jwt, NOW + 30, &got));
    token_cache_free(&k);
    assert_null(k.cache);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_keeps_every_claim),
        cmocka_unit_test(hand_made_token_with_the_right_key_verifies),
        cmocka_unit_test(alg_none_and_other_algorithms_are_refused),
        cmocka_unit_test(wrong_key_or_kid_is_refused),
        cmocka_unit_test(tampered_payload_is_refused),
        cmocka_unit_test(garbage_is_refused),
        cmocka_unit_test(time_claims_are_enforced),
        cmocka_unit_test(issuer_and_audience_must_match),
        cmocka_unit_test(subject_and_role_are_checked),
        cmocka_unit_test(keys_rotate_without_logging_anyone_out),
        cmocka_unit_test(key_files_are_loaded_and_checked),
        cmocka_unit_test(verified_tokens_are_cached_by_their_exact_text),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
