#!/usr/bin/env bash
# The whole test suite: lint, types, then every tier (unit, kernel, notebooks, browser, vm).
# Extra arguments go to pytest (e.g. `./dev test -m "unit or kernel"`).
set -uo pipefail
cd "$(dirname "$0")/.."
# The VM tier builds its box (or reuses the cached one) and boots a real VM; LABKIT_VM_TESTS=0 skips it.
export LABKIT_VM_TESTS=${LABKIT_VM_TESTS:-1}
mkdir -p artifacts
status=0
echo "== labkit: orphaned labs from earlier runs"; .venv/bin/labkit reset || true
echo "== ruff";  .venv/bin/ruff check labkit tests bench || status=1
echo "== mypy";  .venv/bin/mypy || status=1
echo "== pytest"
.venv/bin/pytest -p no:cacheprovider --junitxml=artifacts/junit.xml "$@"
rc=$?
[ $rc -eq 5 ] && { echo "pytest collected no tests"; rc=1; }
[ $rc -ne 0 ] && status=$rc
exit $status
