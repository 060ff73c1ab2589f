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
# The system libraries Qt's window needs on Linux (PySide6's wheels do not carry them; without
# them Qt aborts at start). Debian and Ubuntu only, and only those missing; without root or
# sudo, the command to run is printed and `inspector` runs the demo headless meanwhile.
qt_debs="libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
  libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libfontconfig1 libdbus-1-3"
if command -v dpkg >/dev/null && command -v apt-get >/dev/null; then
  missing=$(for deb in $qt_debs; do dpkg -s "$deb" >/dev/null 2>&1 || echo "$deb"; done | xargs)
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo"; else sudo="-"; fi
    if [ "$sudo" = "-" ]; then
      echo "install: the window needs: sudo apt install $missing" >&2
    else
      # shellcheck disable=SC2086
      { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
          --no-install-recommends $missing >/dev/null; } \
        || echo "install: could not install $missing; the window needs them" >&2
    fi
  fi
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c .ci/constraints.txt -e ".[local,postgres,ui,line]"
echo "install: done; the command is $(pwd)/.venv/bin/inspector"
[ "${1:-}" = "--no-start" ] && exit 0
exec .venv/bin/inspector
