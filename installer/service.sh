#!/usr/bin/env bash
# The headless station as a systemd user service (installer/inspector.service).
#   ./installer/service.sh install    write ~/.config/systemd/user/inspector.service, enable
#                                     and start it (settings: ~/.config/inspector/service.env)
#   ./installer/service.sh uninstall  stop, disable and remove the unit (the data stays)
#   ./installer/service.sh status     systemctl --user status inspector
# VENV=path names the venv whose `inspector` runs (default .venv beside this checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
units=${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user
settings=${XDG_CONFIG_HOME:-$HOME/.config}/inspector/service.env
case "${1:-}" in
  install)
    venv=$(cd "${VENV:-.venv}" 2>/dev/null && pwd) || venv=${VENV:-.venv}
    [ -x "$venv/bin/inspector" ] || { echo "service: $venv/bin/inspector missing; run ./installer/install.sh" >&2; exit 2; }
    mkdir -p "$units" "$(dirname "$settings")"
    sed "s|@INSPECTOR@|$venv/bin/inspector|" installer/inspector.service >"$units/inspector.service"
    [ -f "$settings" ] || cat >"$settings" <<'ENV'
# The station's settings for `inspector run` under systemd (installer/inspector.service).
# INSPECTOR_DATA_DIR=/srv/inspector
# INSPECTOR_DATABASE_URL=postgresql+psycopg://inspector@db.example.com/inspector
INSPECTOR_RUN_ARGS=
ENV
    systemctl --user daemon-reload
    systemctl --user enable --now inspector.service
    echo "service: installed $units/inspector.service; settings in $settings"
    echo "service: logs: journalctl --user -u inspector -f; at boot: sudo loginctl enable-linger $USER"
    ;;
  uninstall)
    systemctl --user disable --now inspector.service 2>/dev/null || true
    rm -f "$units/inspector.service"
    systemctl --user daemon-reload 2>/dev/null || true
    echo "service: removed (settings kept in $settings; the data directory is untouched)"
    ;;
  status) exec systemctl --user status inspector.service ;;
  *) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ] ;;
esac
