"""Options shared by several commands."""

from __future__ import annotations

import typer

DEBUG = typer.Option(False, "--debug", help="Show the full traceback when something fails.")
JSON = typer.Option(False, "--json", help="Print a JSON document on stdout instead of tables.")
