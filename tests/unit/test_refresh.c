/*
 * test_refresh.c - refresh tokens: format, keyed hashing (same token and
 * key -> same hash, another key -> another hash), malformed tokens
 * refused, key files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "refresh.h"

static void key(struct refresh_key *k, char c)
{
    unsigned char s[40];

    memset(s, c, sizeof(s));
    refresh_key_from(k, s, sizeof(s));
}

static void new_token_hashes_back_to_its_hash(void **state)
{
    struct refresh_key k;
    char tok[REFRESH_TOKEN_LEN + 1], h[REFRESH_HASH_HEX], h2[REFRESH_HASH_HEX];
    char tok2[REFRESH_TOKEN_LEN + 1];

    (void)state;
    key(&k, 'a');
    refresh_new(&k, tok, h);
    assert_int_equal(strlen(tok), REFRESH_TOKEN_LEN);
    assert_int_equal(
        strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        REFRESH_TOKEN_LEN);
    assert_int_equal(strlen(h), 64);
    assert_true(refresh_hash(&k, tok, h2));
    assert_string_equal(h, h2);
    refresh_new(&k, tok2, h2);
    assert_string_not_equal(tok, tok2);
    assert_string_not_equal(h, h2);
}

static void hash_depends_on_key(void **state)
{
    struct refresh_key a, b;
    char tok[REFRESH_TOKEN_LEN + 1], ha[REFRESH_HASH_HEX], hb[REFRESH_HASH_HEX];

    (void)state;
    key(&a, 'a');
    key(&b, 'b');
    refresh_new(&a, tok, ha);
    assert_true(refresh_hash(&b, tok, hb));
    assert_string_not_equal(ha, hb);
}

static void malformed_tokens_refused(void **state)
{
    struct refresh_key k;
    char tok[REFRESH_TOKEN_LEN + 1], h[REFRESH_HASH_HEX], bad[64];

    (void)state;
    key(&k, 'a');
    refresh_new(&k, tok, h);
    assert_false(refresh_hash(&k, NULL, h));
    assert_false(refresh_hash(&k, "", h));
    memcpy(bad, tok, sizeof(tok));
    bad[REFRESH_TOKEN_LEN - 1] = '\0'; /* one short */
    assert_false(refresh_hash(&k, bad, h));
    snprintf(bad, sizeof(bad), "%sA", tok); /* one long */
    assert_false(refresh_hash(&k, bad, h));
    memcpy(bad, tok, sizeof(tok));
    bad[3] = '+'; /* not base64url */
    assert_false(refresh_hash(&k, bad, h));
    bad[3] = '=';
    assert_false(refresh_hash(&k, bad, h));
}

static void key_file_needs_32_bytes(void **state)
{
    char path[] = "/tmp/bt-refresh-key-XXXXXX";
    struct refresh_key k, k2;
    struct bt_err e;
    int fd = mkstemp(path);
    FILE *f;

    (void)state;
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs("short\n", f);
    fclose(f);
    err_clear(&e);
    assert_int_equal(refresh_key_load(&k, path, &e), BT_ERR);
    assert_non_null(strstr(e.internal, path));
    f = fopen(path, "w");
    fputs("0123456789abcdef0123456789abcdef\n", f);
    fclose(f);
    err_clear(&e);
    assert_int_equal(refresh_key_load(&k, path, &e), BT_OK);
    refresh_key_from(&k2, (const unsigned char *)"0123456789abcdef0123456789abcdef", 32);
    assert_memory_equal(k.k, k2.k, sizeof(k.k)); /* the newline is not part of the key */
    unlink(path);
    err_clear(&e);
    assert_int_equal(refresh_key_load(&k, path, &e), BT_ERR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_token_hashes_back_to_its_hash),
        cmocka_unit_test(hash_depends_on_key),
        cmocka_unit_test(malformed_tokens_refused),
        cmocka_unit_test(key_file_needs_32_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
