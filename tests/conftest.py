"""Settings shared by the whole test suite: the hypothesis profiles of the property tests (``tests/property/``).

``HYPOTHESIS_PROFILE`` picks one:

* ``ci`` (the default): bounded and derandomized, so the property tests together take about a minute and every run
  checks the same examples; no example database is written.
* ``fuzz``: many more random examples per test (``python3 scripts/dev.py fuzz``); failures are kept in the example
  database and replayed first on the next fuzz run.

Hypothesis keeps its files (the fuzz profile's example database, the patches it writes for failing examples) in
``build/hypothesis/`` (ignored by git) instead of a ``.hypothesis/`` directory wherever pytest was started;
``HYPOTHESIS_STORAGE_DIRECTORY`` overrides that.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase

_STORAGE = Path(
    os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY") or Path(__file__).resolve().parents[1] / "build" / "hypothesis"
)
set_hypothesis_home_dir(_STORAGE)

settings.register_profile(
    "ci",
    max_examples=1000,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
)
settings.register_profile(
    "fuzz",
    max_examples=20_000,
    deadline=None,
    database=DirectoryBasedExampleDatabase(_STORAGE / "examples"),
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
