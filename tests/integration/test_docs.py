"""The documentation stays true: every configuration key is in the README
table and every route of every service is in docs/openapi.yaml."""
import os
import re
import subprocess

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("BT_BUILD", "build")
ROUTE = re.compile(r'\{\s*"(GET|POST|PUT|PATCH|DELETE)",\s*"([^"]+)"')
# Routes nginx keeps internal (never reachable by clients) need no API entry.
INTERNAL_PREFIXES = ("/internal/", "/realtime/authorize")


def config_keys():
    out = subprocess.run([os.path.join(ROOT, BUILD, "bin", "tickd"), "--config-keys"],
                         check=True, capture_output=True, text=True).stdout
    return re.findall(r"^\| `(BT_[A-Z0-9_]+)` \|", out, re.M)


def service_routes():
    routes = set()
    cgi = os.path.join(ROOT, "cgi")
    for svc in sorted(os.listdir(cgi)):
        for name in sorted(os.listdir(os.path.join(cgi, svc))):
            if name.endswith(".c"):
                with open(os.path.join(cgi, svc, name)) as f:
                    routes.update(ROUTE.findall(f.read()))
    return routes


def test_readme_lists_every_config_key():
    keys = config_keys()
    assert len(keys) > 20
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    missing = [k for k in keys if f"`{k}`" not in readme]
    assert not missing, f"README configuration table lacks {missing}"


def test_openapi_describes_every_route():
    with open(os.path.join(ROOT, "docs", "openapi.yaml")) as f:
        spec = yaml.safe_load(f)
    paths = spec["paths"]
    routes = service_routes()
    assert ("GET", "/readyz") in routes
    missing = []
    for method, path in sorted(routes):
        if path.startswith(INTERNAL_PREFIXES) or path.endswith("/healthz") and path != "/healthz":
            continue
        api = re.sub(r":([a-z_]+)", r"{\1}", path)
        if method.lower() not in (paths.get(api) or {}):
            missing.append(f"{method} {api}")
    assert not missing, f"docs/openapi.yaml lacks {missing}"
