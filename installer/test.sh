#!/usr/bin/env bash
# Install everything the tests need and run the whole suite: lint, layer contracts, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}

# Services the tests talk to over loopback; tests that need one skip, saying why, when absent.
if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -q 2>/dev/null; then
  command -v pg_ctlcluster >/dev/null && [ "$(id -u)" = 0 ] \
    && pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c .ci/constraints.txt -e ".[local,dev,ui]"

echo "== ruff"
.venv/bin/ruff check inspector tests bench
.venv/bin/ruff format --check inspector tests bench
echo "== import contracts"
.venv/bin/lint-imports
echo "== pytest"
.venv/bin/python -m pytest "$@"
