"""The CSV formula guard, and reading a guarded cell back as it was (importing an export)."""

from __future__ import annotations

import pytest

from leadsite.leads.export import safe_cell, unguarded_cell
from leadsite.leads.imports.rows import row_input

VALUES = ["=1+1", "x;=1+1", "a,@b", 'x;"=1"', "x\t-2+3", "+33612345678", "Paris;-5", "plain"]


@pytest.mark.parametrize("value", VALUES)
def test_a_guarded_cell_reads_back_as_it_was(value):
    assert unguarded_cell(safe_cell(value)) == value


def test_an_import_of_an_export_reads_guarded_cells_as_typed():
    imported = row_input(["First name"], ["first_name"], [safe_cell("x;=1+1")])

    assert imported.lead_input.first_name == "x;=1+1"
