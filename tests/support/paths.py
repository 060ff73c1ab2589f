"""Where the tests find the repository and the data that ships with it.

TEST_DATA holds the DeepPCB pairs the tests need (MIT, see tests/data/deeppcb/LICENSE); a clone
has everything a test reads. Nothing here points outside the repository: only the benchmarks
(bench/) read data that does not ship.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST_DATA = ROOT / "tests" / "data"
DEMO = ROOT / "assets" / "demo"
