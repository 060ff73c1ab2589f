"""Recipe files for tests, written to disk as an engineer would write them."""

from __future__ import annotations

from pathlib import Path


def recipe_file(folder: Path, engines: list[dict], **fields) -> Path:
    """A recipe YAML on disk, as an engineer would write it."""
    import yaml

    data = {
        "name": "test-recipe",
        "version": 1,
        "product": "PCB",
        "prompt": "Look for defects in the copper.",
        "defects": [
            {"name": "open", "severity": "critical"},
            {"name": "short", "severity": "critical"},
            {"name": "scratch", "severity": "major"},
            {"name": "pin-hole", "severity": "minor"},
        ],
        "engines": engines,
        **fields,
    }
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
