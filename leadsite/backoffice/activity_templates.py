"""What the email activity forms add: their templates may only read variables that exist."""

from __future__ import annotations

from typing import Any, ClassVar

from wtforms import Field

from leadsite.journeys.template_check import Variables, unknown_variables


class TemplateVariablesMixin:
    """For an activity form whose `template_fields` are Jinja templates: an unknown variable
    (`{{ lead.first_nme }}`) is an error on its field, naming what was probably meant.

    The workspace's variables come in the form's options (`variables`); without them (a form
    made outside the editor) nothing more is checked."""

    template_fields: ClassVar[tuple[str, ...]] = ()
    variables: Variables | None = None

    def set_options(self, options: dict[str, Any]) -> None:
        super().set_options(options)  # type: ignore[misc]
        self.variables = options.get("variables")

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)  # type: ignore[misc]
        if self.variables is None:
            return valid
        for name in self.template_fields:
            field: Field = getattr(self, name)
            if field.errors or not isinstance(field.data, str):
                continue
            problems = unknown_variables(field.data, self.variables)
            field.errors = [*field.errors, *problems]
            valid = valid and not problems
        return valid
