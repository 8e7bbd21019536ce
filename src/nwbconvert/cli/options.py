"""Options shared by several commands."""

from __future__ import annotations

import typer

DEBUG = typer.Option(False, "--debug", help="Show the full traceback when something fails.")
JSON = typer.Option(False, "--json", help="Print a JSON document on stdout instead of tables.")
TIMEZONE = typer.Option(None, "--timezone", help="IANA zone for header times without one, e.g. Europe/Berlin.")
# Write options default to None ("not given"), so that a config's values can apply; ConvertOptions has the defaults.
COMPRESSION = typer.Option(
    None,
    "--compression",
    help="gzip (any HDF5 reader), lzf, blosc-zstd (needs hdf5plugin to read) or none (default: gzip).",
)
COMPRESSION_LEVEL = typer.Option(
    None, "--compression-level", help="gzip 0-9 (default: 4); blosc-zstd 1-9 (default: 5)."
)
CHUNK_MB = typer.Option(None, "--chunk-mb", help="Target chunk size in MB; DANDI streams ~10 MB well (default: 10).")
