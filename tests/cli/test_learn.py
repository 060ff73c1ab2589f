"""`inspector learn` as an engineer runs it: a real process, a recipe with a `texture` engine,
good tiles made in the test; then `inspector judge` records which learned model judged."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import cv2
import yaml

from inspector.config import Settings
from inspector.store import Store
from tests.support import textures
from tests.support.command_line import inspector


def _recipe(folder: Path, references: list[Path], engines: list[dict] | None = None) -> Path:
    data = {
        "name": "tiles",
        "version": 1,
        "prompt": "Look for defects on the tile's surface.",
        "defects": [{"name": "texture", "severity": "major"}],
        "references": [str(p) for p in references],
        "engines": engines or [{"engine": "texture"}],
    }
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_learn_writes_a_hashed_artefact_and_the_record_names_it(tmp_path):
    data = tmp_path / "data"
    recipe = _recipe(tmp_path, textures.references(tmp_path / "good", 12))
    learned = inspector("learn", str(recipe), data_dir=data)
    assert learned.returncode == 0, learned.stderr
    assert "learning [" in learned.stderr and "15/15" in learned.stderr  # the progress bar
    sha256 = re.search(r"^sha256 ([0-9a-f]{64})$", learned.stdout, re.M).group(1)
    artefact = data / "learned" / f"tiles-v1-{sha256[:12]}.npz"
    assert hashlib.sha256(artefact.read_bytes()).hexdigest() == sha256
    assert "from 12 good images" in learned.stdout

    scratched, _ = textures.draw_defect(textures.surface(77), "scratch", 77)
    image = tmp_path / "scratched.png"
    cv2.imwrite(str(image), scratched)
    judged = inspector("judge", str(image), "--recipe", str(recipe), "--json", data_dir=data)
    assert judged.returncode == 0, judged.stderr
    (verdict,) = json.loads(judged.stdout)
    assert verdict["outcome"] == "FAIL" and verdict["engine"] == "texture"
    with Store.open(Settings.from_env(data_dir=data)) as store:
        record = store.detail(verdict["inspection_id"])
    assert [a.model_revision for a in record.attempts] == [sha256]


def test_learn_refuses_too_few_images_and_a_recipe_without_a_learner(tmp_path):
    recipe = _recipe(tmp_path, textures.references(tmp_path / "good", 4))
    few = inspector("learn", str(recipe), data_dir=tmp_path / "data")
    assert few.returncode != 0
    assert "4 images of good parts; learning needs at least 10" in few.stderr
    assert "Traceback" not in few.stderr
    assert not (tmp_path / "data" / "learned").exists() or not any(
        (tmp_path / "data" / "learned").iterdir()
    )
    other = _recipe(tmp_path, [], [{"engine": "reference"}])
    none = inspector("learn", str(other), data_dir=tmp_path / "data")
    assert none.returncode != 0 and "no engine learns" in none.stderr


def test_judging_before_learning_says_to_learn_first(tmp_path):
    recipe = _recipe(tmp_path, textures.references(tmp_path / "good", 12))
    image = tmp_path / "tile.png"
    cv2.imwrite(str(image), textures.surface(5))
    judged = inspector("judge", str(image), "--recipe", str(recipe), data_dir=tmp_path / "data")
    assert judged.returncode != 0
    assert "run `inspector learn RECIPE.yaml` first" in judged.stderr
    assert "Traceback" not in judged.stderr
