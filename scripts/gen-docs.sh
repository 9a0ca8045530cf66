#!/usr/bin/env bash
# gen-docs.sh - regenerates the documentation derived from the code:
# the configuration table in README.md (between the config-table markers)
# and docs/bt.env.example, both from `tickd --config-keys`.  `make docs`.
# tests/integration/test_docs.py and test_install.py fail when they drift.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tickd=${1:-$root/build/bin/tickd}
"$root/scripts/gen-env-example.sh" "$tickd" > "$root/docs/bt.env.example"
table=$("$tickd" --config-keys)
TABLE=$table /usr/bin/python3 - "$root/README.md" <<'PY'
import os, re, sys
p = sys.argv[1]
s = open(p).read()
s, n = re.subn(r"(<!-- config-table:begin[^\n]*-->\n).*?(\n<!-- config-table:end -->)",
               lambda m: m.group(1) + os.environ["TABLE"] + m.group(2), s, flags=re.S)
if n != 1:
    sys.exit("gen-docs: config-table markers not found in README.md")
open(p, "w").write(s)
PY
