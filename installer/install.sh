#!/usr/bin/env bash
# Install Inspector into .venv beside this checkout and start it on the built-in defaults
# (SQLite in the user data directory, the bundled demo camera, the default local model).
#   ./installer/install.sh             install, then start
#   ./installer/install.sh --no-start  install only
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "install: Python 3.11 or newer is needed (set PYTHON=...)" >&2; exit 1; }
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c .ci/constraints.txt -e ".[local,postgres,ui]"
echo "install: done; the command is $(pwd)/.venv/bin/inspector"
[ "${1:-}" = "--no-start" ] && exit 0
exec .venv/bin/inspector
