"""A batch sends as many statements for 20 inputs as for 10: nothing in `register_many()` goes
to the database once per input (new leads, updates of them, the locks on their identifiers)."""

from __future__ import annotations

from collections import Counter

import pytest

from leadsite.extensions import db
from leadsite.models import OriginKind
from leadsite.registration import LeadInput, RegistrationContext
from leadsite.registration.batch import register_many
from tests import factories
from tests.statements import captured_statements


def _not_the_counters(statement: str) -> bool:
    return not any(word in statement for word in ("form_counts", "BEGIN", "synchronous_commit"))


def _statements(origin, inputs: list[LeadInput]) -> Counter[str]:
    """The statements a batch sent, by their first words (their table), with how often. But
    the analytics counters' (`count_registrations`), which the test suite writes at once in
    transactions of their own, where the app adds them up and writes them every 0.5 s."""
    with captured_statements(_not_the_counters) as captured:
        outcomes = register_many(origin, inputs, RegistrationContext())
    assert {outcome.status for outcome in outcomes} <= {"created", "updated"}
    return Counter(" ".join(statement.split()[:4]) for statement, _ in captured)


def _inputs(count: int, company: str) -> list[LeadInput]:
    return [
        LeadInput(email=f"p{n}@example.com", first_name=f"P{n}", custom_fields={"c": company})
        for n in range(count)
    ]


@pytest.mark.parametrize("kind", ["new", "updates"])
def test_a_batch_sends_the_same_statements_for_20_inputs_as_for_10(kind):
    counts = {}
    for size in (10, 20):
        ws = factories.workspace()
        origin = factories.origin(factories.staged_funnel(ws), OriginKind.IMPORT)
        db.session.commit()
        if kind == "updates":
            register_many(origin, _inputs(size, "first"), RegistrationContext())
        counts[size] = _statements(origin, _inputs(size, "again"))

    assert counts[20] == counts[10]
