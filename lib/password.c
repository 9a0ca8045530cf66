/*
 * password.c - argon2id hashing through libsodium (see password.h).
 *
 * Never logs or copies a password; the only outputs are hash strings and
 * booleans.  sodium_init is idempotent and thread-safe, so every entry
 * point calls it rather than relying on the process having done so.
 */
#include "password.h"

#include <sodium.h>
#include <string.h>

_Static_assert(PASSWORD_HASH_MAX == crypto_pwhash_STRBYTES, "PASSWORD_HASH_MAX");

static void limits(int profile, unsigned long long *ops, size_t *mem)
{
    if (profile == 1) {
        *ops = crypto_pwhash_OPSLIMIT_MODERATE;
        *mem = crypto_pwhash_MEMLIMIT_MODERATE;
    } else {
        *ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        *mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    }
}

int password_hash(const char *pw, size_t len, int profile, char out[PASSWORD_HASH_MAX],
                  struct bt_err *err)
{
    unsigned long long ops;
    size_t mem;

    if (sodium_init() < 0)
        return err_internal(err, "libsodium could not be initialised");
    limits(profile, &ops, &mem);
    if (crypto_pwhash_str_alg(out, pw, len, ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return err_internal(err, "argon2id hashing failed (out of memory?)");
    return BT_OK;
}

bool password_verify(const char *hash, const char *pw, size_t len)
{
    if (!hash || strnlen(hash, PASSWORD_HASH_MAX) >= PASSWORD_HASH_MAX || sodium_init() < 0)
        return false;
    return crypto_pwhash_str_verify(hash, pw, len) == 0;
}

bool password_needs_rehash(const char *hash, int profile)
{
    unsigned long long ops;
    size_t mem;

    if (!hash || strncmp(hash, crypto_pwhash_argon2id_STRPREFIX,
                         strlen(crypto_pwhash_argon2id_STRPREFIX)) != 0)
        return true;
    limits(profile, &ops, &mem);
    return crypto_pwhash_str_needs_rehash(hash, ops, mem) != 0;
}

int password_dummy(int profile, char out[PASSWORD_HASH_MAX], struct bt_err *err)
{
    unsigned char rnd[24];
    char pw[sizeof(rnd) * 2 + 1];

    if (sodium_init() < 0)
        return err_internal(err, "libsodium could not be initialised");
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(pw, sizeof(pw), rnd, sizeof(rnd));
    return password_hash(pw, strlen(pw), profile, out, err);
}
