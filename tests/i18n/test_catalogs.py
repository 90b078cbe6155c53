"""The catalogs: every lead-facing string translated in each language, the committed .mo files
compiled from the committed .po files, and `make translations` doing both."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from leadsite.i18n import DEFAULT, LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [language for language in LANGUAGES if language != DEFAULT]


def _messages(catalog) -> dict[object, object]:
    """By id: the translation (a plural's ids and forms as tuples, as .po and .mo differ)."""
    return {_tuple(m.id): _tuple(m.string) for m in catalog if m.id}


def _tuple(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


def _po(directory: Path, language: str):
    with open(directory / language / "LC_MESSAGES" / "messages.po", "rb") as file:
        return read_po(file)


def _mo(directory: Path, language: str):
    with open(directory / language / "LC_MESSAGES" / "messages.mo", "rb") as file:
        return read_mo(file)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_string_is_translated_and_the_mo_file_is_compiled_from_the_po(language):
    catalog = _po(ROOT / "translations", language)
    with open(ROOT / "translations" / "messages.pot", "rb") as file:
        template = read_po(file)

    messages = _messages(catalog)
    assert set(messages) == set(_messages(template))
    assert not [m.id for m in catalog if m.id and (m.fuzzy or not all(_strings(m.string)))]
    assert _messages(_mo(ROOT / "translations", language)) == messages


def _strings(string: object) -> tuple[str, ...]:
    return tuple(string) if isinstance(string, list | tuple) else (str(string),)


def test_make_translations_extracts_updates_and_compiles(tmp_path):
    """Run on a copy: extraction finds no string the committed catalogs lack, and compiling
    gives the committed .mo files."""
    copy = tmp_path / "translations"
    shutil.copytree(ROOT / "translations", copy)
    for mo in copy.glob("*/LC_MESSAGES/messages.mo"):
        mo.unlink()

    run = subprocess.run(
        ["make", "translations", f"TRANSLATIONS={copy}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert run.returncode == 0, run.stderr
    for language in TRANSLATED:
        assert "100%" in run.stderr + run.stdout
        assert _messages(_po(copy, language)) == _messages(_po(ROOT / "translations", language))
        assert _messages(_mo(copy, language)) == _messages(_mo(ROOT / "translations", language))


GETTEXT_NAMES = {"_", "_l", "gettext", "lazy_gettext", "ngettext", "lazy_ngettext"}


def test_no_translated_string_hides_inside_an_f_string():
    """pybabel does not look inside f-strings: `f"{_('Enter an address like …')}"` was never
    extracted and stayed English on German pages. Translate first, then format."""
    hidden = []
    for path in sorted((ROOT / "leadsite").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.JoinedStr):
                continue
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Name)
                    and inner.func.id in GETTEXT_NAMES
                ):
                    hidden.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert hidden == []
