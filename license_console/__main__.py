"""Allow `python -m license_console`."""

from __future__ import annotations

from license_console.cli import main

raise SystemExit(main())
