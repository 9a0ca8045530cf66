/*
 * password.h - password hashing with argon2id (libsodium crypto_pwhash_str).
 *
 * The cost profile comes from configuration (BT_PWHASH_PROFILE: 0 =
 * libsodium's "interactive" limits, 1 = "moderate").  Hashes are the
 * self-describing "$argon2id$v=19$m=...,t=...,p=1$salt$hash" strings, so a
 * changed profile is detected per user (password_needs_rehash) and the
 * hash is upgraded at the next successful login.
 *
 * Lengths are counted in bytes: PASSWORD_MIN..PASSWORD_MAX.
 */
#ifndef BT_PASSWORD_H
#define BT_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include "err.h"

#define PASSWORD_MIN      10
#define PASSWORD_MAX      256
#define PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES, checked in password.c */

/* Hashes pw[0..len) into out (NUL-terminated).  BT_ERR (500) only when
 * libsodium cannot allocate the memory the profile asks for. */
int password_hash(const char *pw, size_t len, int profile, char out[PASSWORD_HASH_MAX],
                  struct bt_err *err);

/* True when pw matches hash.  A NULL or malformed hash never matches. */
bool password_verify(const char *hash, const char *pw, size_t len);

/* True when hash was made with other parameters than profile's (or is not
 * an argon2id hash at all). */
bool password_needs_rehash(const char *hash, int profile);

/* A hash of a random password with the profile's cost: verifying against
 * it costs what a real verification costs, so unknown users take as long
 * as known ones (no account enumeration by timing). */
int password_dummy(int profile, char out[PASSWORD_HASH_MAX], struct bt_err *err);

#endif
