#!/usr/bin/env bash
# Install Inspector into .venv beside this checkout, every dependency from the lock with its
# SHA-256 checked, and start it on the built-in defaults (SQLite in the user data directory,
# the bundled demo camera, the demo recipe: its model where installed, else model-free).
#   ./installer/install.sh                  install from PyPI, then start the window
#   ./installer/install.sh --no-start       install only
#   ./installer/install.sh --offline DIR    install with no network at all from a bundle
#                                           (installer/build-offline.sh: its wheels, its lock,
#                                           its models imported and verified) or a wheelhouse
#                                           (installer/wheelhouse.sh)
#   ./installer/install.sh --lock FILE      another lock (default installer/requirements.lock)
#   ./installer/install.sh --service        also install and start the systemd user unit
#                                           (installer/service.sh: a headless station)
# VENV=path installs elsewhere; PYTHON=python3.x picks the interpreter.
set -euo pipefail
origin=$PWD  # a relative --offline or --lock is the caller's, not this checkout's
absolute() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$origin" "$1" ;; esac; }
cd "$(dirname "$0")/.."
usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }
start=1 offline="" service=0 lock=installer/requirements.lock lock_given=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-start) start=0 ;;
    --offline) [ $# -ge 2 ] || { echo "install: --offline needs a folder" >&2; exit 2; }
               offline=$(absolute "$2"); shift ;;
    --lock) [ $# -ge 2 ] || { echo "install: --lock needs a file" >&2; exit 2; }
            lock=$(absolute "$2"); lock_given=1; shift ;;
    --service) service=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
# A bundle (build-offline.sh) holds wheels/, its lock and models/; a wheelhouse only wheels.
wheels=$offline models=""
if [ -n "$offline" ] && [ -d "$offline/wheels" ]; then
  wheels=$offline/wheels models=$offline/models
  [ "$lock_given" = 1 ] || [ ! -f "$offline/requirements.lock" ] || lock=$offline/requirements.lock
fi
[ -f "$lock" ] || { echo "install: no lock file $lock (./installer/lock.sh writes it)" >&2; exit 2; }
if [ -n "$offline" ] && ! ls "$wheels"/*.whl >/dev/null 2>&1; then
  echo "install: $offline holds no wheels; make it with ./installer/build-offline.sh $offline" >&2
  exit 2
fi
python=${PYTHON:-python3}
venv=${VENV:-.venv}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "install: Python 3.11 or newer is needed (set PYTHON=...)" >&2; exit 1; }
# The system libraries Qt's window needs on Linux (PySide6's wheels do not carry them; without
# them Qt aborts at start). Debian and Ubuntu only, and only those missing; without root or
# sudo, or offline, the command to run is printed and `inspector` runs the demo headless.
qt_debs="libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
  libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libfontconfig1 libdbus-1-3"
if command -v dpkg >/dev/null && command -v apt-get >/dev/null; then
  missing=$(for deb in $qt_debs; do dpkg -s "$deb" >/dev/null 2>&1 || echo "$deb"; done | xargs)
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo"; else sudo="-"; fi
    if [ "$sudo" = "-" ] || [ -n "$offline" ]; then
      echo "install: the window needs: sudo apt install $missing" >&2
    else
      # shellcheck disable=SC2086
      { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
          --no-install-recommends $missing >/dev/null; } \
        || echo "install: could not install $missing; the window needs them" >&2
    fi
  fi
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet)
if [ -n "$offline" ]; then
  pip+=(--no-index --find-links "$wheels")
else
  "${pip[@]}" --upgrade pip
fi
# Every package pinned with its hashes; then Inspector itself, editable, without dependencies
# (its build needs setuptools: from build.lock, also hash-checked).
"${pip[@]}" --require-hashes -r "$lock"
"${pip[@]}" --require-hashes -r installer/build.lock
"${pip[@]}" --no-deps --no-build-isolation -e .
command=$(cd "$venv" && pwd)/bin/inspector
# A desktop entry with its icon, so the window is in the desktop's menu.
share=${XDG_DATA_HOME:-$HOME/.local/share}
mkdir -p "$share/applications" "$share/icons/hicolor/scalable/apps"
cp installer/inspector.svg "$share/icons/hicolor/scalable/apps/inspector.svg"
sed -e "s|@INSPECTOR@|$command|" -e "s|@ICON@|inspector|" installer/inspector.desktop \
  >"$share/applications/inspector.desktop"
# The bundle's models into this user's model store (INSPECTOR_DATA_DIR / INSPECTOR_MODEL_STORE
# where set), every file checked against its manifest first; a changed byte stops the install.
if [ -n "$models" ] && ls "$models"/*.tar >/dev/null 2>&1; then
  for bundle in "$models"/*.tar; do
    "$venv/bin/inspector" models import "$bundle" --replace \
      || { echo "install: the model bundle $bundle was refused (above); nothing of it installed" >&2; exit 1; }
  done
fi
echo "install: done; the command is $command (uninstall: ./installer/uninstall.sh)"
if [ "$service" = 1 ]; then
  VENV="$venv" ./installer/service.sh install
fi
[ "$start" = 0 ] && exit 0
exec "$venv/bin/inspector"
