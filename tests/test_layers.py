"""Imports run one way (docs/design.md): the contracts in pyproject.toml, kept by import-linter."""

import os
import re
import subprocess
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_service_imports_a_door() -> None:
    """`lint-imports` finds every contract kept: the registration pipeline, and the other
    services, reach no door (`public/`, `backoffice/`, `api/`, `auth/`), neither through another
    module nor by an import inside a function."""
    lint_imports = Path(sysconfig.get_path("scripts")) / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
    )
    report = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)  # its colours
    assert result.returncode == 0, report
    assert " 0 broken" in report
