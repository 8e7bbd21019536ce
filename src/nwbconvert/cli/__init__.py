"""The `nwbconvert` command: one small module per command; rendering lives in render.py."""

from __future__ import annotations


def main() -> None:
    from nwbconvert.cli.app import app

    app()
