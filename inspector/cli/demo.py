"""Where the demo lives: the recipe and the camera folder shipped in `assets/demo`.

The default of every command that inspects (`run`, `judge`, `window`, `models --check`), so a
first `inspector` shows a station at work with nothing to configure. The demo recipe judges with
a local vision-language model; where that model is not installed (a new station, often offline),
the demo judges with the model-free reference recipe instead, and says so: a first start never
shows a dead screen.
"""

from __future__ import annotations

from inspector.config import ASSETS, DEMO_RECIPE

DEMO_REFERENCE_RECIPE = ASSETS / "demo" / "recipe-reference.yaml"
DEMO_SOURCE = f"folder:{ASSETS / 'demo' / 'camera'}?loop=1&fps=1"


def demo_recipe() -> tuple[str, str | None]:
    """The demo's recipe for this machine, and a notice when it is not the model's: the demo
    recipe where its local model is installed, else the model-free reference recipe."""
    from inspector.station.models_in_use import missing_local_models

    missing = missing_local_models(DEMO_RECIPE)
    if not missing:
        return str(DEMO_RECIPE), None
    notice = (
        f"the demo's model {missing[0]} is not installed on this station, so the demo judges "
        "with the model-free reference recipe. To judge with the model, set it up once: "
        f"`inspector models pull {missing[0]}` on a connected station, or `inspector models "
        "import FILE` (or the window's Models page) of a bundle made elsewhere with "
        "`inspector models export`."
    )
    return str(DEMO_REFERENCE_RECIPE), notice
