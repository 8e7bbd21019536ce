"""Installed distributions' versions, each looked up once per process: a lookup scans the installed
distributions (a batch worker would repeat it for every session), and importlib.metadata itself is imported on
first use (it alone costs a quarter of `nwbconvert --help`)."""

from __future__ import annotations

from functools import cache


@cache
def installed_version(name: str) -> str | None:
    """The installed version of distribution `name`; None when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None
