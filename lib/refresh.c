/*
 * refresh.c - refresh token generation and keyed hashing (see refresh.h).
 *
 * The key file content is run through BLAKE2b with a fixed context string,
 * so a file of any length >= 32 bytes gives a uniform 32-byte key and the
 * same file could never produce the JWT signing key by accident.
 */
#include "refresh.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define KEY_FILE_MAX 1024
static const char key_context[] = "bitcoin-tycoon refresh-token hash v1";

void refresh_key_from(struct refresh_key *key, const unsigned char *secret, size_t len)
{
    crypto_generichash_state st;

    if (sodium_init() < 0)
        BT_BUG("libsodium could not be initialised");
    crypto_generichash_init(&st, NULL, 0, sizeof(key->k));
    crypto_generichash_update(&st, (const unsigned char *)key_context, sizeof(key_context) - 1);
    crypto_generichash_update(&st, secret, len);
    crypto_generichash_final(&st, key->k, sizeof(key->k));
}

int refresh_key_load(struct refresh_key *key, const char *path, struct bt_err *err)
{
    unsigned char buf[KEY_FILE_MAX];
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f)
        return err_internal(err, "cannot read refresh key file %s: %s", path, strerror(errno));
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (n < 32) {
        sodium_memzero(buf, sizeof(buf));
        return err_internal(err, "refresh key file %s holds %zu bytes; at least 32 are required",
                            path, n);
    }
    refresh_key_from(key, buf, n);
    sodium_memzero(buf, sizeof(buf));
    return BT_OK;
}

static void digest(const struct refresh_key *key, const unsigned char *raw,
                   char hash[REFRESH_HASH_HEX])
{
    unsigned char d[32];

    crypto_generichash(d, sizeof(d), raw, REFRESH_TOKEN_BYTES, key->k, sizeof(key->k));
    sodium_bin2hex(hash, REFRESH_HASH_HEX, d, sizeof(d));
}

void refresh_new(const struct refresh_key *key, char token[REFRESH_TOKEN_LEN + 1],
                 char hash[REFRESH_HASH_HEX])
{
    unsigned char raw[REFRESH_TOKEN_BYTES];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(token, REFRESH_TOKEN_LEN + 1, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    digest(key, raw, hash);
    sodium_memzero(raw, sizeof(raw));
}

bool refresh_hash(const struct refresh_key *key, const char *token, char hash[REFRESH_HASH_HEX])
{
    unsigned char raw[REFRESH_TOKEN_BYTES];
    size_t n = 0;
    const char *end = NULL;

    if (!token || strnlen(token, REFRESH_TOKEN_LEN + 1) != REFRESH_TOKEN_LEN)
        return false;
    if (sodium_base642bin(raw, sizeof(raw), token, REFRESH_TOKEN_LEN, NULL, &n, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        n != sizeof(raw) || end != token + REFRESH_TOKEN_LEN)
        return false;
    digest(key, raw, hash);
    return true;
}
