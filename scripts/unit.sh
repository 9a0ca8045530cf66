#!/usr/bin/env bash
# unit.sh - runs the C unit test binaries and prints one summary line.
set -uo pipefail
fail=0; suites=0; tests=0; failed_tests=0
for t in "$@"; do
    suites=$((suites + 1))
    out=$(CMOCKA_MESSAGE_OUTPUT=stdout "$t" 2>&1); rc=$?
    # cmocka prints one RUN and at most one OK per test; FAILED lines repeat
    # in its summary, so failures are the tests that ran without an OK.
    r=$(grep -c '^\[ RUN      \]' <<<"$out")
    n=$(grep -c '^\[       OK \]' <<<"$out")
    f=$((r - n))
    tests=$((tests + r))
    if [ $rc -ne 0 ]; then
        fail=1; failed_tests=$((failed_tests + (f > 0 ? f : 1)))
        echo "$out"
        echo "unit: FAILED $(basename "$t") (exit $rc)"
    fi
done
echo "unit: $suites suites, $tests tests, $failed_tests failed"
exit $fail
