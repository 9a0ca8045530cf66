/*
 * refresh.h - refresh tokens: 256 random bits, stored only as a keyed hash.
 *
 * A token is 32 bytes from the libsodium CSPRNG, sent to the client as 43
 * characters of unpadded base64url.  The database holds only
 * BLAKE2b-256(key, token) (crypto_generichash with a 32-byte key derived
 * from BT_REFRESH_KEY_FILE): a copy of the table (a backup, a read-only SQL
 * injection) yields nothing that can be presented, and without the key the
 * hashes cannot even be checked against guessed tokens.  A plain hash would
 * be enough against guessing (256 bits); the key adds protection against
 * offline use of a leaked table and costs nothing.
 */
#ifndef BT_REFRESH_H
#define BT_REFRESH_H

#include <stdbool.h>
#include <stddef.h>
#include "err.h"

#define REFRESH_TOKEN_BYTES 32
#define REFRESH_TOKEN_LEN   43           /* base64url, no padding */
#define REFRESH_HASH_HEX    (2 * 32 + 1) /* hex digest + NUL */

struct refresh_key {
    unsigned char k[32];
};

/* Derives the hashing key from a file of >= 32 bytes (trailing newlines
 * ignored).  The error names the file. */
int refresh_key_load(struct refresh_key *key, const char *path, struct bt_err *err);

/* Derives the key from bytes (tests, and refresh_key_load). */
void refresh_key_from(struct refresh_key *key, const unsigned char *secret, size_t len);

/* A new token (NUL-terminated) and its hash (hex). */
void refresh_new(const struct refresh_key *key, char token[REFRESH_TOKEN_LEN + 1],
                 char hash[REFRESH_HASH_HEX]);

/* The hash of a presented token; false (and no hash) when the token is not
 * well-formed, so garbage never reaches the database. */
bool refresh_hash(const struct refresh_key *key, const char *token, char hash[REFRESH_HASH_HEX]);

#endif
