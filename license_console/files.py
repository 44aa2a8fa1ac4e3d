"""Reading and writing the files people hand the console, with errors they can act on."""

from __future__ import annotations

import os
from pathlib import Path

from license_console.errors import InvalidInput


def read_text(path: Path, what: str = "file", encoding: str = "utf-8") -> str:
    """A file's text, or InvalidInput naming the file and the reason (missing, a folder...)."""
    path = path.expanduser()
    try:
        return path.read_text(encoding=encoding)
    except FileNotFoundError as exc:
        raise InvalidInput(f"{path}: no such {what}") from exc
    except IsADirectoryError as exc:
        raise InvalidInput(f"{path}: is a directory, not a {what}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: the {what} is not UTF-8 text") from exc
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the {what}: {exc.strerror or exc}") from exc


def write_text_atomic(path: Path, text: str) -> None:
    """Write through a temporary file and a rename: a reader never sees half a file."""
    path = path.expanduser()
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        if tmp.parent.is_dir():
            tmp.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from exc


def check_writable(path: Path) -> None:
    """Refuse an output path before any work is done, rather than after a license is signed."""
    path = path.expanduser()
    if path.is_dir():
        raise InvalidInput(f"cannot write {path}: it is a directory")
    parent = path.parent
    if not parent.is_dir():
        raise InvalidInput(f"cannot write {path}: {parent} is not a directory")
    target = path if path.exists() else parent
    if not os.access(target, os.W_OK):
        raise InvalidInput(f"cannot write {path}: permission denied")
