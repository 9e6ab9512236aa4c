"""Where the shipped data folders (``mappings/``, ``config/``, ``salesforce/``) live.

In a wheel they are bundled as ``naturhome_sync/_bundled/<name>``; in a checkout (editable
install) they sit at the repository root beside the packages. Settings default to whichever
exists, so the service finds its data the same way in both cases.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """The shipped copy of data folder ``name`` (``mappings``, ``config`` or ``salesforce``)."""
    bundled = _PACKAGE_DIR / "_bundled" / name
    if bundled.is_dir():
        return bundled
    return _PACKAGE_DIR.parent / name
