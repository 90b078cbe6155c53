"""Put this checkout first on sys.path, so leadsite is imported from it, not the editable install.

The venv's editable install points at the working tree it was installed from; a benchmark run
from a `git archive` of another commit must measure that commit's leadsite.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if sys.path[:1] != [str(ROOT)]:
    sys.path.insert(0, str(ROOT))
