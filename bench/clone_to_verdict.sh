#!/usr/bin/env bash
# Wall time from a fresh clone to the first verdict of the demo, through the README's install
# command (`./installer/install.sh`, which ends by starting `inspector`; with no display it runs
# the demo headless, model-free where the demo's model is not installed). Prints the clone, the
# install and the first verdict as seconds from the start, then stops the station.
#   bench/clone_to_verdict.sh [REPO] [install.sh options, e.g. --offline BUNDLE]
# REPO: what to clone (default: this checkout). Online, pip reads this machine's pip
# configuration; PIP_CONFIG_FILE=/dev/null makes it PyPI alone. Needs a few GB of disk (torch).
# Measured 2026-11-30 on the 2-core development machine, load average 8-12 (other jobs), the
# station's requirements.lock (torch 2.14.1 with CUDA wheels, 3.3 GB), no display:
#   online, PyPI alone (PIP_CONFIG_FILE=/dev/null, no pip cache): install 737 s, first verdict
#     744 s after the clone began;
#   offline (`--offline DIR`, the lock's wheels on the local disk, PIP_CONFIG_FILE=/dev/null):
#     install 264 s, first verdict 268 s.
set -euo pipefail
repo=${1:-$(cd "$(dirname "$0")/.." && pwd)}
[ $# -gt 0 ] && shift
work=$(mktemp -d "${TMPDIR:-/tmp}/clone-to-verdict.XXXXXX")
out=$work/stdout err=$work/stderr
t0=$(date +%s.%N)
since() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }'; }
git clone -q "$repo" "$work/inspector"
echo "clone: $(since) s"
cd "$work/inspector"
env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM PIP_NO_CACHE_DIR=1 \
  INSPECTOR_DATA_DIR="$work/data" XDG_DATA_HOME="$work/share" HF_HUB_OFFLINE=1 \
  ./installer/install.sh "$@" >"$out" 2>"$err" &
pid=$!
installed=""
while kill -0 "$pid" 2>/dev/null; do
  if [ -z "$installed" ] && grep -q '^install: done' "$out"; then
    installed=$(since)
    echo "install: $installed s"
  fi
  if grep -qE ' (PASS|FAIL|UNSURE) ' "$out"; then
    echo "first verdict: $(since) s: $(grep -m1 -E ' (PASS|FAIL|UNSURE) ' "$out")"
    kill -INT "$pid"
    wait "$pid" || true
    echo "(kept in $work; remove it with rm -rf $work)"
    exit 0
  fi
  sleep 1
done
wait "$pid" || true
echo "clone-to-verdict: the install or the station ended without a verdict; see $err" >&2
tail -5 "$err" >&2
exit 1
