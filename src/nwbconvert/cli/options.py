"""Options shared by several commands, as `Annotated` aliases (`debug: Debug = False`) and, for older commands,
as option objects (`debug: bool = DEBUG`).

Options that a session config can also set default to None ("not given"), so that the config's values apply;
the defaults are `nwbconvert.options.DEFAULTS`, and the help texts below say them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nwbconvert.backends import BACKEND_HELP, BackendName
from nwbconvert.options import (
    COMPRESSION_HELP,
    DANDI_LAYOUT_HELP,
    DEFAULT_CHUNK_MB,
    LEVEL_HELP,
    VIDEO_HELP,
    Compression,
    VideoMode,
)

_DEBUG_HELP = "Show the full traceback when something fails."
_JSON_HELP = "Print a JSON document on stdout instead of tables."
DEBUG = typer.Option(False, "--debug", help=_DEBUG_HELP)
JSON = typer.Option(False, "--json", help=_JSON_HELP)

Debug = Annotated[bool, typer.Option("--debug", help=_DEBUG_HELP)]
Json = Annotated[bool, typer.Option("--json", help=_JSON_HELP)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would be written; write nothing.")]
Timezone = Annotated[
    str | None, typer.Option("--timezone", help="IANA zone for header times without one, e.g. Europe/Berlin.")
]
Validate = Annotated[
    bool | None,
    typer.Option("--validate/--no-validate", help="Validate the output before moving it in place (default: validate)."),
]
Backend = Annotated[BackendName | None, typer.Option("--backend", help=f"{BACKEND_HELP}.")]
CompressionOption = Annotated[Compression | None, typer.Option("--compression", help=f"{COMPRESSION_HELP}.")]
VideoOption = Annotated[VideoMode | None, typer.Option("--video", help=f"{VIDEO_HELP}.")]
DandiLayout = Annotated[bool, typer.Option("--dandi-layout", help=f"{DANDI_LAYOUT_HELP}.")]
CompressionLevel = Annotated[int | None, typer.Option("--compression-level", help=f"{LEVEL_HELP}.")]
ChunkMb = Annotated[
    float | None,
    typer.Option(
        "--chunk-mb", help=f"Target chunk size in MB; DANDI streams ~10 MB well (default: {DEFAULT_CHUNK_MB:g})."
    ),
]
SetValues = Annotated[
    list[str], typer.Option("--set", help="KEY=VALUE metadata, e.g. subject.sex=F (wins over files).")
]
MetadataFiles = Annotated[
    list[Path], typer.Option("--metadata", "-m", help="Metadata YAML file (repeatable; later wins).")
]
Output = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="NWB file to write, e.g. sub-m1_ses-1_ecephys.nwb (--backend says the name each backend writes).",
    ),
]
Format = Annotated[
    str | None, typer.Option("--format", "-f", help="Reader name; skips detection (see `nwbconvert formats`).")
]
Streams = Annotated[list[str], typer.Option("--stream", help="Write only this stream or series (repeatable).")]
Sortings = Annotated[
    list[Path],
    typer.Option("--sorting", help="Spike-sorting output to add as units (Phy/Kilosort folder, ...; repeatable)."),
]
Probe = Annotated[
    Path | None, typer.Option("--probe", help="Probe geometry (probeinterface .json or .prb) overriding the source's.")
]
Stub = Annotated[float | None, typer.Option("--stub", min=0.001, help="Write only the first SECONDS of each stream.")]
AllowIncomplete = Annotated[
    bool,
    typer.Option(
        "--allow-incomplete",
        help="Convert a copy that holds less than its headers declare (a truncated file, a missing channel file): "
        "a warning, and the shortfall recorded in the file.",
    ),
]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output file.")]
