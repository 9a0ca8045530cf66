/*
 * config.h - configuration from environment variables, parsed once.
 *
 * Every process (FastCGI pools, tickd, CLIs) calls config_load at start-up;
 * the result is a typed struct that is read-only afterwards.  Values are
 * validated there (ranges, required keys) and start-up fails fast with a
 * message naming the variable.  The table of keys, defaults and meanings is
 * config_keys[]; `tickd --config-keys` prints it and the README mirrors it.
 */
#ifndef BT_CONFIG_H
#define BT_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include "err.h"

#define CONFIG_STR 256

struct config {
    char log_level[16];
    char run_dir[CONFIG_STR]; /* sockets, pid files, metrics */
    char pg_dsn[512];
    int pg_timeout_ms;       /* statement_timeout for every query */
    int tickd_pg_timeout_ms; /* tickd's statement timeout */
    char redis_host[CONFIG_STR];
    int redis_port;
    char redis_password[CONFIG_STR];
    int redis_timeout_ms;
    char redis_prefix[32]; /* namespace for every key we write */
    /* FastCGI pools */
    char socket[CONFIG_STR]; /* unix socket path or ":port" */
    int workers;
    char socket_mode[8];         /* octal, e.g. "0660" */
    long body_max;               /* request body cap in bytes (413 beyond) */
    int rate_scale;              /* multiplies every per-caller rate limit */
    char public_url[CONFIG_STR]; /* how browsers reach nginx */
    /* tickd */
    int tick_ms;
    char nchan_pub_url[CONFIG_STR]; /* loopback publisher endpoint base */
    int snapshot_every;             /* full world snapshot every N ticks */
    int history_ticks;              /* ticks of per-tick mining history kept */
    int tick_threads;               /* region compute threads per world */
    char tickd_id[64];              /* identity in leases; default host:pid */
    /* auth */
    char jwt_secret_file[CONFIG_STR];
    char jwt_kid[32];
    char jwt_prev_secret_file[CONFIG_STR];
    char jwt_prev_kid[32];
    char jwt_issuer[64];
    char jwt_audience[64];
    int access_ttl_s;
    int refresh_ttl_s;
    int pwhash_profile; /* 0 = libsodium interactive, 1 = moderate */
    /* realtime */
    int live_ticket_ttl_s; /* lifetime of an unused subscribe ticket */
    int live_presence_s;   /* player:update this long after a subscribe (lib/presence.h) */

    char refresh_key_file[CONFIG_STR]; /* key of the refresh-token hashes */
    int login_max_failures;            /* failed logins per account and window before 429 */
    int login_failure_window_s;
};

enum config_type { CONFIG_T_STR, CONFIG_T_INT, CONFIG_T_LONG };

struct config_key {
    const char *name;
    enum config_type type;
    size_t offset;
    size_t size; /* for strings: buffer size */
    const char *def;
    long min, max; /* for numbers */
    const char *help;
};

extern const struct config_key config_keys[];
extern const size_t config_nkeys;

typedef const char *(*config_getenv_fn)(const char *name);

/* Loads every key from get (getenv when NULL).  On error names the variable. */
int config_load(struct config *c, config_getenv_fn get, struct bt_err *err);

/* Prints the keys as a Markdown table (name, default, meaning). */
void config_print_table(FILE *out);

#endif
