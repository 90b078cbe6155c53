"""Staff-written templates rendered in Jinja's sandbox under a hard budget of work and size.

Jinja's sandbox stops a template from reaching what it should not; it does not stop one from
working forever (`{% for a in range(700) %}{% for b in range(700) %}...`) or from building a
string of gigabytes before anything is written. So every render here carries a `Budget`:

- every loop iteration and every call spends a step; past `MAX_STEPS`, or past the deadline
  (checked at each step), the render stops with `BudgetExceeded`;
- every value an operator, a filter or `~` makes, and every piece of output (captured ones too:
  `{% set %}` blocks, macros), is weighed first; nothing may weigh more than `MAX_LENGTH`
  characters, and all output together no more than `MAX_PRODUCED`;
- the operations that would allocate a huge value in one C call (`*`, `**`, `replace` with a
  long replacement, padding widths in `%`/`format`/`center`, `join`) are checked before they run.

Loops and outputs are instrumented by rewriting the parsed template (`_parse`) so that each
loop's iterable and each output goes through a counting filter; calls go through the sandbox's
`call`. The environment is immutable (no `list.append` to grow values behind the budget's back).
"""

from __future__ import annotations

import operator
import re
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache, wraps
from typing import Any

from jinja2 import Environment, Template, TemplateSyntaxError, nodes, pass_context
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_STEPS = 100_000
MAX_SECONDS = 0.5
MAX_LENGTH = 100_000
MAX_PRODUCED = 10 * MAX_LENGTH
MAX_EXPONENT = 100
# Filters whose integer arguments size what they build.
SIZING_FILTERS = {"center", "indent", "slice", "batch"}
MAX_INT_BITS = 4096
PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
BRACE_SPEC = re.compile(r"\{[^{}]*:([^{}]*)\}")
DIGITS = re.compile(r"\d+")


class BudgetExceeded(SecurityError):
    """The template needed more work or made more text than a render may."""


class OutOfTime(BudgetExceeded):
    """The render passed its deadline (which the machine's load has a part in)."""


@dataclass
class Budget:
    """What one render may still spend."""

    max_steps: int = MAX_STEPS
    seconds: float = MAX_SECONDS
    steps: int = 0
    produced: int = 0
    deadline: float = field(default=0.0)

    def start(self) -> Budget:
        self.deadline = time.monotonic() + self.seconds
        return self

    def spend(self) -> None:
        self.steps += 1
        if self.steps > self.max_steps:
            raise BudgetExceeded(f"it needs more than {self.max_steps:,} loop iterations and calls")
        if time.monotonic() > self.deadline:
            raise OutOfTime(f"it takes longer than {self.seconds:g} s to render")

    def output(self, value: Any) -> None:
        self.produced += weigh(value)
        if self.produced > MAX_PRODUCED:
            raise BudgetExceeded(f"it makes more than {MAX_PRODUCED:,} characters of text")


_budget: ContextVar[Budget | None] = ContextVar("leadsite_template_budget", default=None)


def current_budget() -> Budget:
    budget = _budget.get()
    if budget is None:
        raise RuntimeError("a staff template must be rendered through `render`")
    return budget


def weigh(value: Any, depth: int = 0) -> int:
    """About how many characters `value` is as text, without building that text. Counting
    stops past `MAX_PRODUCED`: anything heavier is refused whatever its exact weight."""
    if isinstance(value, str | bytes | bytearray):
        return len(value)
    if depth > 3:
        return 1
    if isinstance(value, dict):
        value = [item for pair in value.items() for item in pair]
    if not isinstance(value, list | tuple | set | frozenset):
        return 1
    total = len(value)
    for item in value:
        total += weigh(item, depth + 1)
        if total > MAX_PRODUCED:
            break
    return total


def check_size(value: Any, what: str = "a value") -> Any:
    if weigh(value) > MAX_LENGTH:
        raise BudgetExceeded(f"{what} would be longer than {MAX_LENGTH:,} characters")
    return value


def _check_widths(numbers: Iterable[Any]) -> None:
    """Refuse a width or count over `MAX_LENGTH`, or one given at run time (`*`)."""
    for number in numbers:
        if isinstance(number, bool) or number is None or number == "":
            continue
        if number == "*" or int(number) > MAX_LENGTH:
            raise BudgetExceeded(f"a width over {MAX_LENGTH:,} characters")


def check_percent_format(text: str) -> None:
    """Refuse `%`-format widths that would pad to gigabytes (`'%999999999d' % 1`)."""
    for match in PERCENT_SPEC.finditer(text):
        _check_widths(group for group in match.groups() if group)


def check_brace_format(text: str) -> None:
    """The same for `str.format` specs (`'{:>999999999}'`); nested (dynamic) widths too."""
    for spec in BRACE_SPEC.findall(text):
        _check_widths(DIGITS.findall(spec))
    if re.search(r"\{[^{}]*:[^{}]*\{", text):
        raise BudgetExceeded("a width computed while formatting")


def _check_replace(text: Any, old: Any, new: Any, count: Any = None) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        times = text.count(old) if old else len(text) + 1
        if isinstance(count, int) and count >= 0:
            times = min(times, count)
        if len(text) + times * max(len(new) - len(old), 0) > MAX_LENGTH:
            raise BudgetExceeded(f"the text would be longer than {MAX_LENGTH:,} characters")


def _guarded_filter(name: str, function: Any) -> Any:
    """A filter that checks its arguments before and its result after it runs."""

    @wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        current_budget().spend()
        values = [a for a in args if not isinstance(a, Context | EvalContext | Environment)]
        if name in SIZING_FILTERS:
            _check_widths(a for a in [*values[1:], *kwargs.values()] if isinstance(a, int))
        if name == "replace" and len(values) >= 3:
            _check_replace(*values[:4])
        if name == "format" and values and isinstance(values[0], str):
            check_percent_format(values[0])
        if name == "join" and values:
            items = list(values[0]) if not isinstance(values[0], str) else values[0]
            separator = values[1] if len(values) > 1 else kwargs.get("d", "")
            check_size([items, str(separator) * max(len(items) - 1, 0)], "the joined text")
            args = (*args[: len(args) - len(values)], items, *values[1:])
        return check_size(function(*args, **kwargs), f"the result of `{name}`")

    return guarded


@pass_context
def _loop_filter(context: Context, iterable: Any) -> Iterator[Any]:
    """What every `{% for %}` iterates through: each item spends a step."""
    budget = current_budget()
    for item in iterable:
        budget.spend()
        yield item


@pass_context
def _output_filter(context: Context, value: Any) -> Any:
    """What every `{{ ... }}` and piece of text goes through: it counts what is written."""
    current_budget().output(check_size(value, "the text"))
    return value


@pass_context
def _size_filter(context: Context, value: Any) -> Any:
    return check_size(value)


LOOP, OUTPUT, SIZE = "leadsite.budget.loop", "leadsite.budget.output", "leadsite.budget.size"


def _wrap(node: nodes.Expr, name: str) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


class BudgetedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox staff templates render in, with every render on a `Budget`."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)  # `lipsum(n=100000)` writes megabytes in one call
        self.filters = {name: _guarded_filter(name, f) for name, f in self.filters.items()}
        self.filters.update({LOOP: _loop_filter, OUTPUT: _output_filter, SIZE: _size_filter})

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            if loop.recursive:
                raise TemplateSyntaxError("recursive loops are not allowed", loop.lineno)
            loop.iter = _wrap(loop.iter, LOOP)
        for output in tree.find_all(nodes.Output):
            output.nodes = [_wrap(child, OUTPUT) for child in output.nodes]
        for concat in list(tree.find_all(nodes.Concat)):
            _replace(tree, concat, _wrap(concat, SIZE))
        return tree

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        current_budget().spend()
        bound = getattr(__obj, "__self__", None)
        if isinstance(bound, str):
            method = getattr(__obj, "__name__", "")
            if method == "replace":
                _check_replace(bound, *args[:3])
            elif method in {"center", "ljust", "rjust", "zfill", "expandtabs"}:
                _check_widths(a for a in args if isinstance(a, int))
            elif method == "join" and args:
                items = list(args[0])
                check_size([items, bound * max(len(items) - 1, 0)], "the joined text")
                args = (items, *args[1:])
        return check_size(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:  # `text.format` or `text.format_map`: check its widths
            check_brace_format(value.__self__)
        return wrapped

    def call_binop(self, context: Context, operator_name: str, left: Any, right: Any) -> Any:
        current_budget().spend()
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise BudgetExceeded("that number would be too large")
            return operator.pow(left, right)
        if operator_name == "*":
            for sequence, times in ((left, right), (right, left)):
                if (
                    isinstance(sequence, str | bytes | list | tuple)
                    and isinstance(times, int)
                    and weigh(sequence) * times > MAX_LENGTH
                ):
                    raise BudgetExceeded(
                        f"that text would be longer than {MAX_LENGTH:,} characters"
                    )
            return _check_number(operator.mul(left, right))
        if operator_name == "%" and isinstance(left, str):
            check_percent_format(left)
        return _check_number(check_size(super().call_binop(context, operator_name, left, right)))


def _check_number(value: Any) -> Any:
    """Refuse integers grown past `MAX_INT_BITS` (squaring in a loop gets slow, then huge)."""
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise BudgetExceeded("that number would be too large")
    return value


def _replace(tree: nodes.Node, old: nodes.Node, new: nodes.Node) -> None:
    """Put `new` where `old` is in its parent (Jinja nodes know no parent)."""
    for parent in tree.find_all(nodes.Node):
        for field_name, value in parent.iter_fields():
            if value is old and parent is not new:
                setattr(parent, field_name, new)
                return
            if isinstance(value, list) and any(item is old for item in value):
                setattr(parent, field_name, [new if item is old else item for item in value])
                return


_sandbox = BudgetedSandbox(autoescape=False, keep_trailing_newline=False)


@lru_cache(maxsize=256)
def compile_template(source: str) -> Template:
    """Parse, instrument and compile `source` (once: the worker renders the same texts);
    raises Jinja's `TemplateError` when it does not compile."""
    return _sandbox.from_string(source)


def parse(source: str) -> nodes.Template:
    """The syntax tree of `source` as the sandbox parses it; raises Jinja's `TemplateError`."""
    return _sandbox.parse(source)


def global_names() -> frozenset[str]:
    """The names every template can read besides its context (`range`, `dict`, ...)."""
    return frozenset(_sandbox.globals)


def render(source: str, context: dict[str, Any], budget: Budget | None = None) -> str:
    """Render `source` with `context` within `budget` (a fresh one by default).

    Raises `BudgetExceeded` past the budget, and whatever the template raises otherwise.
    The output is streamed and stopped past `MAX_LENGTH` characters.
    """
    budget = (budget or Budget()).start()
    token = _budget.set(budget)
    try:
        chunks, length = [], 0
        for chunk in compile_template(source).generate(context):
            length += len(chunk)
            if length > MAX_LENGTH:
                raise BudgetExceeded(f"the text is longer than {MAX_LENGTH:,} characters")
            chunks.append(chunk)
        return "".join(chunks)
    finally:
        _budget.reset(token)
