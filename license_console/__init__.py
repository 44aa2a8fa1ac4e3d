"""License Console: issue, validate and manage software licenses signed by Vault Transit."""

from __future__ import annotations

__version__ = "0.1.0"
