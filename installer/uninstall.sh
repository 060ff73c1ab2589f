#!/usr/bin/env bash
# Remove what install.sh added: the systemd unit, the desktop entry and its icon, and the venv.
# The data (database, evidence, model store, signing key) stays unless --purge-data is given.
#   ./installer/uninstall.sh                keep the data
#   ./installer/uninstall.sh --purge-data   also delete the data directory (asks first)
# VENV=path names the venv (default .venv beside this checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
purge=0
case "${1:-}" in
  "") ;;
  --purge-data) purge=1 ;;
  -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "uninstall: unknown option $1" >&2; exit 2 ;;
esac
venv=${VENV:-.venv}
share=${XDG_DATA_HOME:-$HOME/.local/share}
data=""
if [ -x "$venv/bin/python" ]; then
  data=$("$venv/bin/python" -c 'from inspector.config import Settings; print(Settings.from_env().data_dir)' 2>/dev/null || true)
fi
if [ -f "${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user/inspector.service" ]; then
  ./installer/service.sh uninstall
fi
rm -f "$share/applications/inspector.desktop" "$share/icons/hicolor/scalable/apps/inspector.svg"
rm -rf "$venv"
echo "uninstall: removed the venv $venv, the desktop entry and the service"
if [ "$purge" = 1 ] && [ -n "$data" ] && [ -d "$data" ]; then
  if [ "${INSPECTOR_YES:-}" != 1 ]; then
    read -r -p "delete $data (database, evidence, models)? type yes: " answer
    [ "$answer" = yes ] || { echo "uninstall: data kept in $data"; exit 0; }
  fi
  rm -rf "$data"
  echo "uninstall: deleted $data"
elif [ -n "$data" ]; then
  echo "uninstall: data kept in $data"
fi
