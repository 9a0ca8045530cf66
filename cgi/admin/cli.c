/*
 * cli.c - `bt-admin <command>`: account administration from a shell.
 *
 *   bt-admin create-admin --email E     password from $BT_ADMIN_PASSWORD or
 *                                       the first line of stdin
 *   bt-admin ban --user ID [--reason R]
 *   bt-admin unban --user ID
 *
 * Admin accounts exist only through this command: the API has no way to
 * create one or to grant the role.  Runs with the same configuration as
 * the pool (BT_* environment) and writes the same audit entries, with no
 * actor and "bt-admin" as the user agent.  Exit status: 0 done, 1 refused
 * or failed (message on stderr), 2 usage.
 */
#include "users.h"
#include "account.h"
#include "password.h"
#include "valid.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DB_STMT(q_admin_insert, "INSERT INTO users (email, password_hash, role) "
                        "VALUES ($1, $2, 'admin') RETURNING id");

static int usage(void)
{
    fprintf(stderr, "usage: bt-admin create-admin --email EMAIL   (password: $BT_ADMIN_PASSWORD "
                    "or stdin)\n"
                    "       bt-admin ban --user ID [--reason TEXT]\n"
                    "       bt-admin unban --user ID\n");
    return 2;
}

static int fail(const char *what, const struct bt_err *err)
{
    fprintf(stderr, "bt-admin: %s: %s%s%s\n", what, err->detail, err->internal[0] ? " - " : "",
            err->internal);
    return 1;
}

/* The value following --name, or NULL. */
static const char *option(int argc, char **argv, const char *name)
{
    int i;

    for (i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

static void cli_context(struct audit_entry *ae)
{
    memset(ae, 0, sizeof(*ae));
    ae->user_agent = "bt-admin";
}

static int read_password(char *buf, size_t size)
{
    const char *env = getenv("BT_ADMIN_PASSWORD");
    size_t n;

    if (env) {
        snprintf(buf, size, "%s", env);
    } else if (!fgets(buf, (int)size, stdin)) {
        return BT_ERR;
    }
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return BT_OK;
}

static int create_admin(struct app *app, const char *raw_email)
{
    char pw[PASSWORD_MAX + 2], hash[PASSWORD_HASH_MAX];
    struct audit_entry ae;
    struct bt_err err;
    const char *email = account_normalize_email(&app->arena, raw_email);
    PGresult *r;

    err_clear(&err);
    if (!email || !valid_email(email)) {
        fprintf(stderr, "bt-admin: not an email address: %s\n", raw_email);
        return 1;
    }
    if (read_password(pw, sizeof(pw)) != BT_OK || strlen(pw) < PASSWORD_MIN ||
        strlen(pw) > PASSWORD_MAX) {
        fprintf(stderr, "bt-admin: the password must be %d to %d bytes\n", PASSWORD_MIN,
                PASSWORD_MAX);
        return 1;
    }
    if (password_hash(pw, strlen(pw), app->cfg.pwhash_profile, hash, &err) != BT_OK)
        return fail("hashing", &err);
    if (db_begin(&app->db, &err) != BT_OK)
        return fail("database", &err);
    r = db_exec(&app->db, &app->arena, &q_admin_insert, 2, (const char *[]){email, hash}, &err);
    if (!r) {
        db_rollback(&app->db);
        if (err.status == 409) {
            fprintf(stderr, "bt-admin: an account with this email already exists\n");
            return 1;
        }
        return fail("database", &err);
    }
    cli_context(&ae);
    ae.event = AUDIT_ADMIN_CREATED;
    ae.user_id = db_i64(r, 0, 0);
    if (audit_write(&app->db, &app->arena, &ae, &err) != BT_OK ||
        db_commit(&app->db, &err) != BT_OK) {
        db_rollback(&app->db);
        return fail("database", &err);
    }
    printf("%" PRId64 "\n", ae.user_id);
    return 0;
}

static int ban_cmd(struct app *app, int argc, char **argv, bool ban)
{
    const char *user = option(argc, argv, "--user"), *reason = option(argc, argv, "--reason");
    struct audit_entry ae;
    struct bt_err err;
    char *end;
    long long id;

    if (!user)
        return usage();
    id = strtoll(user, &end, 10);
    if (!*user || *end || id <= 0) {
        fprintf(stderr, "bt-admin: --user takes a user id\n");
        return 2;
    }
    err_clear(&err);
    cli_context(&ae);
    if (users_set_ban(app, &app->arena, &ae, id, ban, ban ? reason : NULL, &err) != BT_OK)
        return fail(ban ? "ban" : "unban", &err);
    printf("user %lld %s\n", id, ban ? "banned" : "unbanned");
    return 0;
}

int admin_cli(struct app *app, int argc, char **argv)
{
    int rc;

    if (argc < 1)
        return usage();
    if (strcmp(argv[0], "create-admin") == 0) {
        const char *email = option(argc, argv, "--email");
        rc = email ? create_admin(app, email) : usage();
    } else if (strcmp(argv[0], "ban") == 0) {
        rc = ban_cmd(app, argc, argv, true);
    } else if (strcmp(argv[0], "unban") == 0) {
        rc = ban_cmd(app, argc, argv, false);
    } else {
        rc = usage();
    }
    arena_reset(&app->arena);
    return rc;
}
