#!/usr/bin/env bash
# Build a self-contained bundle for a station with no network: the wheels of the locked set
# (each checked against the lock's SHA-256 as it arrives), the application, and optionally
# models from this machine's model store (each checked against its manifest as it is written).
#   ./installer/build-offline.sh DIR                       the station's set (requirements.lock)
#   ./installer/build-offline.sh DIR --lock FILE           another lock (e.g. requirements-core.lock)
#   ./installer/build-offline.sh DIR --models ID [ID ...]  also these models (`inspector models list`)
#   ./installer/build-offline.sh DIR --data-dir D --models ID   the store of data directory D
# Carry DIR to the station (a USB stick), then there, with no network:
#   DIR/inspector/installer/install.sh --offline DIR
# which installs with `pip --no-index` and imports each model with `inspector models import`.
# Build on Linux x86_64 with CPython 3.11 (the locks' platform); PYTHON=... runs `inspector`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
[ $# -ge 1 ] || { usage >&2; exit 2; }
case "$1" in -h|--help) usage; exit 0 ;; -*) echo "build-offline: give the bundle's folder first" >&2; exit 2 ;; esac
out=$1
shift
lock="" data_dir="" models=()
while [ $# -gt 0 ]; do
  case "$1" in
    --lock) [ $# -ge 2 ] || { echo "build-offline: --lock needs a file" >&2; exit 2; }
            lock=$2; shift ;;
    --data-dir) [ $# -ge 2 ] || { echo "build-offline: --data-dir needs a folder" >&2; exit 2; }
                data_dir=$2; shift ;;
    --models) shift
              while [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; do models+=("$1"); shift; done
              [ ${#models[@]} -gt 0 ] || { echo "build-offline: --models needs model ids" >&2; exit 2; }
              continue ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build-offline: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
lock=${lock:-$here/installer/requirements.lock}
[ -f "$lock" ] || { echo "build-offline: no lock file $lock" >&2; exit 2; }
lock=$(cd "$(dirname "$lock")" && pwd)/$(basename "$lock")
if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
  echo "build-offline: $out is not empty: give a new folder" >&2
  exit 2
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -n "${PYTHON:-}" ]; then python=$PYTHON
elif [ -x "$here/.venv/bin/python" ]; then python=$here/.venv/bin/python
else python=python3; fi
inspector=("$python" -m inspector)
[ -z "$data_dir" ] || inspector+=(--data-dir "$data_dir")

# The models first: a model that changed in the store is refused before minutes of downloads.
if [ ${#models[@]} -gt 0 ]; then
  mkdir -p "$out/models"
  for id in "${models[@]}"; do
    (cd "$here" && "${inspector[@]}" models export "$id" "$out/models/${id//\//--}.tar") \
      || { echo "build-offline: model $id could not be exported; nothing more built" >&2; exit 1; }
  done
fi

# The wheels of the lock and of the build (setuptools), each hash-checked as it arrives.
PYTHON=$python "$here/installer/wheelhouse.sh" "$out/wheels" "$lock" "$here/installer/build.lock"
cp "$lock" "$out/requirements.lock"

# The application: the checkout's files (tracked ones where it is a git checkout).
mkdir -p "$out/inspector"
if git -C "$here" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$here" && git ls-files -z --cached --others --exclude-standard --deduplicate \
    | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$out/inspector"
else
  (cd "$here" && tar --exclude=./.venv --exclude='*/__pycache__' -cf - .) | tar -xf - -C "$out/inspector"
fi

# A checksum of everything, checkable on the station with `sha256sum -c SHA256SUMS`.
(cd "$out" && find wheels models requirements.lock -type f 2>/dev/null | LC_ALL=C sort \
  | xargs -d '\n' sha256sum >SHA256SUMS)
cat >"$out/README.txt" <<EOF
Inspector, offline bundle. Copy this folder to the station's disk (the application runs from
it), then there, with no network:
  $(basename "$out")/inspector/installer/install.sh --offline $(basename "$out")
Check it first (optional): cd $(basename "$out") && sha256sum -c SHA256SUMS
Lock: $(basename "$lock"); models: ${models[*]:-none}
EOF
echo "build-offline: $(find "$out/wheels" -name '*.whl' | wc -l) wheels, ${#models[@]} models, $(du -sh "$out" | cut -f1) in $out"
