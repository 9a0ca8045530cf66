"""The installation (scripts/install.sh, `make install`) staged into a
temporary DESTDIR, never onto this machine: files and modes, the units
verified where they are installed, the rendered nginx config accepted by
nginx, the system user definition, an upgrade keeping configuration and
secrets, and the example configuration matching the binaries' key table."""
import os
import re
import stat
import subprocess

import pytest

from conftest import BUILD, ROOT

SERVICES = ["auth", "player", "site", "market", "research", "governance", "event", "admin"]
BIN = os.path.join(ROOT, BUILD, "bin")


def install(stage, prefix="/usr/local", **env):
    e = dict(os.environ, BUILD=BUILD, DESTDIR=str(stage), PREFIX=prefix,
             BT_PUBLIC_URL="https://bt.example", **env)
    return subprocess.run([os.path.join(ROOT, "scripts", "install.sh")], env=e, cwd=ROOT,
                          capture_output=True, text=True, check=True, timeout=60)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def env_file(path):
    """The active (uncommented) KEY=VALUE lines of an EnvironmentFile."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, _, v = line.partition("=")
                out[k] = v[1:-1] if v.startswith('"') and v.endswith('"') else v
    return out


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    root = tmp_path_factory.mktemp("stage")
    install(root)
    return root


def test_files_in_place(stage):
    lib = stage / "usr/local/lib/bitcoin-tycoon"
    share = stage / "usr/local/share/bitcoin-tycoon"
    for b in ["tickd"] + [f"bt-{s}" for s in SERVICES]:
        assert mode(lib / "bin" / b) == 0o755, b
        with open(lib / "bin" / b, "rb") as got, open(os.path.join(BIN, b), "rb") as built:
            assert got.read() == built.read(), b
    assert mode(lib / "migrate.sh") == 0o755
    repo_migrations = sorted(f for f in os.listdir(os.path.join(ROOT, "migrations"))
                             if re.match(r"\d{4}_.*\.sql$", f))
    assert sorted(os.listdir(share / "migrations")) == repo_migrations and repo_migrations
    assert (share / "seed.sql").is_file()
    for f in ("index.html", "js/main.js", "js/session.js", "css/admin.css"):
        assert (share / "www-admin" / f).is_file(), f
    assert (stage / "usr/local/share/doc/bitcoin-tycoon/openapi.yaml").is_file()
    units = sorted(os.listdir(stage / "etc/systemd/system"))
    assert units == ["bitcoin-tycoon.target", "bt-fcgi@.service", "bt-migrate.service",
                     "bt-tickd.service"]
    for u in units:  # the committed units, verbatim for the default prefix
        with open(stage / "etc/systemd/system" / u) as got, \
                open(os.path.join(ROOT, "systemd", u)) as committed:
            assert got.read() == committed.read(), u


def test_units_verify_as_installed(stage):
    r = subprocess.run([os.path.join(ROOT, "scripts", "check-units.sh"), str(stage)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "units: ok (11 verified" in r.stdout


def test_config_and_secrets(stage):
    etc = stage / "etc/bitcoin-tycoon"
    env = env_file(etc / "bt.env")
    assert mode(etc / "bt.env") == 0o640
    assert env["BT_RUN_DIR"] == "/run/bitcoin-tycoon"
    assert env["BT_JWT_SECRET_FILE"] == "/etc/bitcoin-tycoon/jwt.key"
    assert env["BT_PUBLIC_URL"] == "https://bt.example"
    assert env["BT_NCHAN_PUB_URL"] == "http://127.0.0.1:8081"
    assert env["BT_PG_DSN"].startswith("host=")
    assert "BT_SOCKET" not in env  # per pool, from bt-fcgi@.service
    key = (etc / "jwt.key").read_bytes()
    assert len(key) >= 32 and mode(etc / "jwt.key") == 0o640
    # Everything else stays at the binaries' defaults (commented out).
    text = (etc / "bt.env").read_text()
    assert "#BT_TICK_MS=5000" in text and "#BT_WORKERS=4" in text


def test_nginx_accepts_the_rendered_config(stage, tmp_path):
    conf = (stage / "etc/nginx/bitcoin-tycoon/bitcoin-tycoon.conf").read_text()
    assert "alias /usr/local/share/bitcoin-tycoon/www-admin/;" in conf
    assert "server unix:/run/bitcoin-tycoon/admin.sock;" in conf
    assert "listen 127.0.0.1:8080 " in conf and "listen 127.0.0.1:8081;" in conf
    assert "set_real_ip_from 127.0.0.1;" in conf
    assert "@@" not in conf
    stub = (stage / "etc/nginx/conf.d/bitcoin-tycoon.conf").read_text()
    assert "include /etc/nginx/bitcoin-tycoon/bitcoin-tycoon.conf;" in stub
    # nginx -t on it, as Debian's nginx.conf would include it, with the
    # absolute paths moved under the test directory (nothing on this machine).
    for d in ("etc/nginx/bitcoin-tycoon", "var/log/nginx", "var/cache/bitcoin-tycoon/nginx"):
        (tmp_path / d).mkdir(parents=True, exist_ok=True)
    for name in ("bitcoin-tycoon.conf", "bt-fastcgi.conf"):
        text = (stage / "etc/nginx/bitcoin-tycoon" / name).read_text()
        for d in ("/etc/nginx/bitcoin-tycoon", "/var/log/nginx", "/var/cache/bitcoin-tycoon"):
            text = text.replace(d, str(tmp_path) + d)
        (tmp_path / "etc/nginx/bitcoin-tycoon" / name).write_text(text)
    main = tmp_path / "nginx.conf"
    main.write_text(
        "load_module /usr/lib/nginx/modules/ngx_nchan_module.so;\n"
        f"pid {tmp_path}/nginx.pid;\nevents {{}}\n"
        "http {\n  include /etc/nginx/mime.types;\n"
        f"  include {tmp_path}/etc/nginx/bitcoin-tycoon/bitcoin-tycoon.conf;\n}}\n")
    r = subprocess.run(["nginx", "-t", "-q", "-p", str(tmp_path), "-c", str(main),
                        "-e", str(tmp_path / "error.log")], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr


def test_system_user_definition(stage, tmp_path):
    """systemd-sysusers (run by a real install) creates the user and puts
    www-data in its group; here into a scratch root."""
    (tmp_path / "etc").mkdir()
    r = subprocess.run(["systemd-sysusers", f"--root={tmp_path}",
                        str(stage / "etc/sysusers.d/bitcoin-tycoon.conf")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    passwd = (tmp_path / "etc/passwd").read_text()
    user = [l.split(":") for l in passwd.splitlines() if l.startswith("bitcoin-tycoon:")]
    assert user and user[0][6] == "/usr/sbin/nologin" and int(user[0][2]) < 1000
    group = [l.split(":") for l in (tmp_path / "etc/group").read_text().splitlines()
             if l.startswith("bitcoin-tycoon:")]
    assert group and "www-data" in group[0][3].split(",")


def test_reinstall_keeps_config_and_secrets(stage):
    etc = stage / "etc/bitcoin-tycoon"
    with open(etc / "bt.env", "a") as f:
        f.write("BT_WORKERS=7\n")
    key = (etc / "jwt.key").read_bytes()
    out = install(stage).stdout
    assert "keeping /etc/bitcoin-tycoon/bt.env" in out
    assert env_file(etc / "bt.env")["BT_WORKERS"] == "7"
    assert (etc / "jwt.key").read_bytes() == key


def test_other_prefix(tmp_path):
    install(tmp_path, prefix="/opt/bt")
    for u in os.listdir(tmp_path / "etc/systemd/system"):
        text = (tmp_path / "etc/systemd/system" / u).read_text()
        assert "/usr/local" not in text, u
    assert "ExecStart=/opt/bt/lib/bitcoin-tycoon/bin/tickd" in \
        (tmp_path / "etc/systemd/system/bt-tickd.service").read_text()
    assert (tmp_path / "opt/bt/lib/bitcoin-tycoon/bin/tickd").is_file()


def test_env_example_matches_the_binaries():
    """docs/bt.env.example is generated from `tickd --config-keys`: every
    key with its default; regenerate it when lib/config.c changes."""
    r = subprocess.run([os.path.join(ROOT, "scripts", "gen-env-example.sh"),
                        os.path.join(BIN, "tickd")], capture_output=True, text=True,
                       check=True, timeout=30)
    with open(os.path.join(ROOT, "docs", "bt.env.example")) as f:
        assert f.read() == r.stdout, "run: scripts/gen-env-example.sh > docs/bt.env.example"
    keys = re.findall(r"^\| `(BT_[A-Z0-9_]+)`", subprocess.run(
        [os.path.join(BIN, "tickd"), "--config-keys"], capture_output=True, text=True,
        check=True).stdout, re.M)
    assert len(keys) > 10
    for k in keys:
        assert k == "BT_SOCKET" or f"\n#{k}=" in r.stdout, k


def test_installed_migrations_run_against_a_database(stage, stack):
    """The installed runner, as bt-migrate.service starts it (connection from
    BT_PG_DSN): re-running migrations and the seed is a no-op."""
    lib = stage / "usr/local/lib/bitcoin-tycoon"
    share = stage / "usr/local/share/bitcoin-tycoon"
    before = stack.sql("SELECT version, checksum FROM schema_migrations ORDER BY version")
    worlds = stack.sql("SELECT count(*) FROM worlds")[0][0]
    env = dict(os.environ,
               BT_PG_DSN=f"host=127.0.0.1 port={stack.pg_port} dbname=bitcoin_tycoon user=bt",
               PGPASSFILE=os.path.join(stack.var, "secrets", "pgpass"), BT_TICK_MS="500")
    r = subprocess.run([str(lib / "migrate.sh"), str(share / "migrations"),
                        str(share / "seed.sql")], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert "applied" not in r.stdout
    assert stack.sql("SELECT version, checksum FROM schema_migrations ORDER BY version") == before
    assert stack.sql("SELECT count(*) FROM worlds")[0][0] == worlds
