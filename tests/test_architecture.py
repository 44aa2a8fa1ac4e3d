"""The service layer must stay usable without Textual: only tui/ may import it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "license_console"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_tui_package_imports_textual() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "tui" not in path.relative_to(PACKAGE).parts[:1] and "textual" in _imports(path)
    ]
    assert offenders == []


def test_the_offline_verifier_needs_only_the_standard_library_and_cryptography() -> None:
    import sys

    allowed = set(sys.stdlib_module_names) | {"cryptography", "__future__"}
    assert _imports(PACKAGE / "verify.py") - allowed == set()
