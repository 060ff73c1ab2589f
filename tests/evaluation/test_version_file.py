"""The version an evaluation writes is the recipe's own file with the new threshold: the
engineer's comments and layout stay (issue 13), the run that justifies it heads the file."""

from __future__ import annotations

import shutil

from inspector.config import Settings
from inspector.evaluation.versions import write_version
from inspector.recipes import load_recipe
from inspector.store import Store
from tests.support.paths import ROOT

DEMO = ROOT / "assets" / "demo"


def test_the_new_version_keeps_the_files_comments(tmp_path):
    shutil.copytree(DEMO, tmp_path / "demo")
    source = tmp_path / "demo" / "recipe-reference.yaml"
    point = {"threshold": 4.25, "run": 7, "target_miss": 0.05, "misses": 0, "defects": 8}
    point |= {"overkill": 0.0}
    with Store.open(Settings.from_env(data_dir=tmp_path / "data")) as store:
        written = write_version(store, source, point, tmp_path / "data")
    text = written.read_text()
    old = source.read_text()
    first, rest = text.split("\n", 1)
    assert first.startswith("# version 2: threshold 4.25 chosen by evaluation run 7")
    expected = old.replace("version: 1", "version: 2").replace("threshold: 3.0 ", "threshold: 4.25")
    assert rest == expected  # every comment, the relative paths, the layout: as written
    new = load_recipe(written)
    assert new.engines[0]["threshold"] == 4.25 and new.references == load_recipe(source).references
