"""mint_refresh.py VAR USER_ID N OUT - inserts N live refresh tokens of one
user straight into the stack's database and writes the tokens to OUT.

The hash is computed here with Python's hashlib (BLAKE2b), independently of
lib/refresh.c: key = BLAKE2b-256(context || key file without trailing
newlines), hash = BLAKE2b-256 keyed with it over the 32 raw token bytes."""
import base64
import hashlib
import os
import sys

import psycopg

var, uid, n, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
CONTEXT = b"bitcoin-tycoon refresh-token hash v1"
with open(os.path.join(var, "secrets", "refresh.key"), "rb") as f:
    key = hashlib.blake2b(CONTEXT + f.read().rstrip(b"\r\n"), digest_size=32).digest()
pw = port = None
with open(os.path.join(var, "secrets", "pgpass")) as f:
    for line in f:
        host, p, db, user, secret = line.rstrip("\n").split(":", 4)
        if user == "bt":
            pw, port = secret, int(p)
tokens = []
with psycopg.connect(host="127.0.0.1", port=port, dbname="bitcoin_tycoon", user="bt",
                     password=pw) as conn:
    with conn.cursor().copy("COPY refresh_tokens (user_id, family, token_hash, expires_at) "
                            "FROM STDIN") as copy:
        for _ in range(n):
            raw = os.urandom(32)
            tokens.append(base64.urlsafe_b64encode(raw).rstrip(b"=").decode())
            fam = os.urandom(16).hex()
            copy.write_row((uid, fam, hashlib.blake2b(raw, key=key, digest_size=32).digest(),
                            "2100-01-01T00:00:00Z"))
with open(out, "w") as f:
    f.write("\n".join(tokens) + "\n")
