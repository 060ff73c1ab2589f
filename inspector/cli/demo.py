"""Where the demo lives: the recipe and the camera folder shipped in `assets/demo`.

The default of every command that inspects (`run`, `judge`, `window`, `models --check`), so a
first `inspector` shows a station at work with nothing to configure.
"""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parents[2] / "assets"
DEMO_RECIPE = ASSETS / "demo" / "recipe.yaml"
DEMO_SOURCE = f"folder:{ASSETS / 'demo' / 'camera'}?loop=1&fps=1"
