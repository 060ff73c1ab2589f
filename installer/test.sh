#!/usr/bin/env bash
# Install everything the tests need and run the whole suite: lint, layer contracts, pytest; then
# pytest once more without Qt installed.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}

# Services the tests talk to over loopback; tests that need one skip, saying why, when absent.
if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -q 2>/dev/null; then
  command -v pg_ctlcluster >/dev/null && [ "$(id -u)" = 0 ] \
    && pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi

# Camera peers and libraries (inspector/cameras/): Aravis with its fake GigE Vision camera, a
# GStreamer RTSP server, and what PyGObject (the `cameras` extra) builds against. Only if missing.
camera_debs="aravis-tools gir1.2-aravis-0.8 gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly libgirepository1.0-dev libcairo2-dev
  pkg-config"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=$(for deb in $camera_debs; do dpkg -s "$deb" >/dev/null 2>&1 || echo "$deb"; done)
  if [ -n "$missing" ]; then
    # shellcheck disable=SC2086
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends $missing >/dev/null; } \
      || echo "test.sh: could not install $missing; camera tests will skip" >&2
  fi
fi

# pdftoppm renders the exported PDF report in its test (Debian poppler-utils). Only if missing.
if ! command -v pdftoppm >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends poppler-utils >/dev/null; } \
    || echo "test.sh: could not install poppler-utils; the PDF render test will skip" >&2
fi

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c .ci/constraints.txt -e ".[local,dev,ui,cameras,line]"

echo "== ruff"
.venv/bin/ruff check inspector tests bench
.venv/bin/ruff format --check inspector tests bench
echo "== import contracts"
.venv/bin/lint-imports
echo "== pytest"
.venv/bin/python -m pytest "$@"

# Once more without Qt, as a core-only install has it: every test module must import without it
# (collected, each of them), the window's tests skip, saying so (tests/ui/conftest.py), and what
# behaves differently without Qt runs: the first start falls back to the headless demo, the
# doctor says "headless only". The rest of the core is the same code either way, and
# `lint-imports` above proves no module outside inspector/ui imports Qt, so it is not run twice
# (that doubled the suite's time: 35 min more on a 2-core machine). The dists are the `ui`
# extra's and pytest-qt (which needs a Qt binding to load); they come back right after, and a
# run that stops in between gets them back from the install at its start.
qt_dists="PySide6-Essentials shiboken6 pyqtgraph pytest-qt"
restore_qt() {
  .venv/bin/python -m pip install --quiet -c .ci/constraints.txt -e ".[local,dev,ui,cameras,line]"
}
trap restore_qt EXIT
echo "== pytest without Qt"
# shellcheck disable=SC2086
.venv/bin/python -m pip uninstall --quiet -y $qt_dists
if .venv/bin/python -c "import PySide6" 2>/dev/null; then
  echo "test.sh: PySide6 is still importable; the run without Qt would prove nothing" >&2
  exit 1
fi
.venv/bin/python -m pytest --collect-only -q tests | tail -1
.venv/bin/python -m pytest "$@" tests/ui tests/cli/test_first_start.py tests/cli/test_doctor.py \
  tests/cli/test_documented_commands.py::test_inspector_without_a_screen_runs_the_demo_headless
