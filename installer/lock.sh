#!/usr/bin/env bash
# Regenerate the locked dependency sets from pyproject.toml: every package pinned, with the
# SHA-256 of each of its files, so two stations installed a month apart run the same code and
# pip refuses a file that changed (install.sh installs with --require-hashes).
#   ./installer/lock.sh                  # resolve against PyPI
#   ./installer/lock.sh --extra-index-url URL --index-strategy unsafe-best-match   # more indexes
# Extra arguments go to `uv pip compile`. uv is installed into a throwaway venv, not into .venv.
# The locks are for Linux x86_64 (manylinux_2_28) and CPython 3.11, the stations' platform;
# torch, torchvision and transformers follow .ci/constraints.txt (the releases CI tests).
#   installer/requirements.lock       the station: core + local, postgres, ui, line (install.sh)
#   installer/requirements-core.lock  core only: headless, model-free or cloud-less judging
#   installer/requirements-dev.lock   what installer/test.sh installs (not used by it yet)
#   installer/build.lock              what building Inspector itself needs (setuptools)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
"$python" -m venv "$tools/venv"
"$tools/venv/bin/python" -m pip install --quiet "uv>=0.5"
uv=("$tools/venv/bin/uv" pip compile --quiet --generate-hashes --python-version 3.11
    --python-platform x86_64-manylinux_2_28 -c .ci/constraints.txt
    --custom-compile-command ./installer/lock.sh)
"${uv[@]}" "$@" pyproject.toml --extra local --extra postgres --extra ui --extra line \
  -o installer/requirements.lock
"${uv[@]}" "$@" pyproject.toml -o installer/requirements-core.lock
"${uv[@]}" "$@" pyproject.toml --extra local --extra dev --extra ui --extra cameras --extra line \
  -o installer/requirements-dev.lock
printf 'setuptools>=77\n' >"$tools/build.in"
"${uv[@]}" "$@" "$tools/build.in" -o installer/build.lock
sed -i "s|$tools/build.in|setuptools>=77 (pyproject.toml build-system)|" installer/build.lock
echo "lock: wrote installer/requirements.lock, requirements-core.lock, requirements-dev.lock, build.lock"
