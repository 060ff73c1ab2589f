#!/usr/bin/env bash
# Download every wheel of the locked set into a folder, for a station with no network:
#   ./installer/wheelhouse.sh DIR [LOCK ...]
# (default locks: installer/requirements.lock and installer/build.lock). Each file is checked
# against the lock's SHA-256 as it arrives. Carry DIR and this checkout to the station, then
#   ./installer/install.sh --offline DIR
# Run it on a Linux x86_64 machine with CPython 3.11 (the locks' platform), or pass
# PIP_DOWNLOAD_ARGS="--platform manylinux_2_28_x86_64 --python-version 3.11" from another one.
set -euo pipefail
if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  [ $# -ge 1 ] && exit 0 || exit 2
fi
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
shift
locks=("$@")
[ ${#locks[@]} -gt 0 ] || locks=("$here/installer/requirements.lock" "$here/installer/build.lock")
python=${PYTHON:-python3}
mkdir -p "$dir"
for lock in "${locks[@]}"; do
  [ -f "$lock" ] || { echo "wheelhouse: no lock file $lock" >&2; exit 2; }
  echo "wheelhouse: downloading $(grep -c '^[A-Za-z0-9].*==' "$lock") packages of $lock into $dir"
  # shellcheck disable=SC2086
  "$python" -m pip download --progress-bar on --require-hashes --no-deps --only-binary=:all: \
    ${PIP_DOWNLOAD_ARGS:-} -r "$lock" -d "$dir"
done
echo "wheelhouse: $(find "$dir" -maxdepth 1 -name '*.whl' | wc -l) wheels, $(du -sh "$dir" | cut -f1) in $dir"
