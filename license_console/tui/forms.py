"""Parsing of the issue and renew forms, shared and free of widgets so it is easy to test."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from textual.suggester import Suggester

from license_console.errors import InvalidInput
from license_console.licenses import FORMAT_VERSION, format_ts, parse_meta_pairs

QUICK_PICKS = {"30d": timedelta(days=30), "1y": timedelta(days=365)}


def split_modules(text: str) -> list[str]:
    """`a, b c` -> [a, b, c]: commas or spaces, as people type them."""
    return [part for part in text.replace(",", " ").split() if part]


def parse_metadata(text: str) -> dict[str, Any]:
    """KEY=VALUE lines; blank lines and `#` comments are skipped."""
    lines = [line.strip() for line in text.splitlines()]
    return parse_meta_pairs(line for line in lines if line and not line.startswith("#"))


def quick_pick(pick: str, base: datetime) -> str:
    return (base + QUICK_PICKS[pick]).strftime("%Y-%m-%d")


def problem(build: Any) -> str | None:
    """Run a validation callable; its InvalidInput message, or None when the input is fine."""
    try:
        build()
    except InvalidInput as exc:
        return exc.message
    return None


def preview_document(
    customer: str,
    modules: list[str],
    expires_at: datetime,
    metadata: dict[str, Any],
    issuer: str,
    key_name: str,
    renewed_from: str | None = None,
    alg: str | None = None,
) -> dict[str, Any]:
    """What will be signed, with placeholders for what only signing decides."""
    return {
        "license_id": "(assigned when signed)",
        "customer": customer,
        "modules": modules,
        "issued_at": "(when signed)",
        "expires_at": format_ts(expires_at),
        "metadata": metadata,
        "issuer": issuer,
        "version": FORMAT_VERSION,
        "renewed_from": renewed_from,
        "key_name": key_name,
        "key_version": "(latest)",
        "alg": alg or "(key's alg)",
        "signature": "(Vault signs on confirm)",
    }


class ModuleSuggester(Suggester):
    """Completes the last module of a comma/space separated list from the modules in use."""

    def __init__(self, modules: list[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.modules = modules

    async def get_suggestion(self, value: str) -> str | None:
        if not value or value[-1] in ", ":
            return None
        cut = max(value.rfind(","), value.rfind(" ")) + 1
        head, last = value[:cut], value[cut:]
        for module in self.modules:
            if module.startswith(last) and module != last:
                return head + module
        return None
