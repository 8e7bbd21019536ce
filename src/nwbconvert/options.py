"""The options of a conversion: what to read (`SourceSpec`, per source) and how to write (`OutputOptions`, per file).

`ConvertOptions` is the options as a caller gives them (the library's `convert`, the command line, a batch job):
every field left at None (or empty) is "not given". `given_wins` is the one rule that puts given values over
others (the command line over a session config's `options:` and over its single source's entry); `resolve` turns
the given options and the sources into the two typed values, filling each default from `DEFAULTS`. Stdlib only:
the command line imports this module for its choices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from nwbconvert.backends import DEFAULT_BACKEND
from nwbconvert.choice import Choice
from nwbconvert.errors import UsageError

if TYPE_CHECKING:
    from nwbconvert.readers.base import ReadOptions
    from nwbconvert.writer.compression import WriteOptions


class Compression(Choice):
    """How bulk traces are compressed (writer/compression.py)."""

    GZIP = "gzip"
    LZF = "lzf"
    BLOSC_ZSTD = "blosc-zstd"
    NONE = "none"


DEFAULT_COMPRESSION = Compression.GZIP


class VideoMode(Choice):
    """Where behavior videos' frames go (`--video`; writer/video.py)."""

    EXTERNAL = "external"  # ImageSeries.external_file: the video files, paths relative to the NWB file
    INTERNAL = "internal"  # decoded frames stored in the file, chunked and compressed


VIDEO_HELP = (
    "external: the ImageSeries names the video files, relative to the NWB file (DANDI's way); internal: decoded "
    "frames stored in the file, chunked and compressed (default: external)"
)
DANDI_LAYOUT_HELP = (
    "Place videos where DANDI expects them beside the NWB file (a folder named after it, as `dandi organize` does), "
    "so `dandi upload` needs no organize step (batch always does)"
)
COMPRESSION_HELP = (
    f"gzip (any HDF5 reader), lzf, blosc-zstd (needs hdf5plugin to read) or none (default: {DEFAULT_COMPRESSION})"
)
DEFAULT_CHUNK_MB = 10.0  # DANDI streams ~10 MB chunks well
DEFAULT_LEVEL: dict[str, int] = {Compression.GZIP: 4, Compression.BLOSC_ZSTD: 5}  # of the methods that have levels
LEVELS: dict[str, range] = {Compression.GZIP: range(0, 10), Compression.BLOSC_ZSTD: range(1, 10)}
LEVEL_HELP = "; ".join(
    f"{method} {levels.start}-{levels.stop - 1} (default: {DEFAULT_LEVEL[method]})" for method, levels in LEVELS.items()
)  # "gzip 0-9 (default: 4); blosc-zstd 1-9 (default: 5)"
SOURCE_PREFIX = "source."  # `--set source.KEY=VALUE` is a reader setting, any other KEY=VALUE metadata
Settings = tuple[tuple[str, str], ...]  # reader settings (KEY, VALUE), KEY without "source.", in the order given
T = TypeVar("T", "ConvertOptions", "SourceSpec")


def split_set(set_values: Sequence[str]) -> tuple[Settings, tuple[str, ...]]:
    """`--set` pairs split into reader settings (`source.KEY=VALUE`, prefix dropped) and metadata pairs."""
    settings: list[tuple[str, str]] = []
    metadata: list[str] = []
    for pair in set_values:
        key, sep, value = pair.partition("=")
        if not key.strip().startswith(SOURCE_PREFIX):
            metadata.append(pair)
            continue
        name = key.strip()[len(SOURCE_PREFIX) :]
        if not sep or not name:
            raise UsageError(f"--set '{pair}': expected source.KEY=VALUE, e.g. --set source.sampling_rate=30000.")
        settings.append((name, value.strip()))
    return tuple(settings), tuple(metadata)


@dataclass(frozen=True)
class SourceSpec:
    """What to read from one source; a session config lists several (see merge.py)."""

    path: Path
    format: str | None = None  # reader name; None: detected
    streams: tuple[str, ...] = ()  # streams or series to write; (): all
    sortings: tuple[Path, ...] = ()  # sorter output folders (Phy, Kilosort, ...) to add as units: [SERIES=]PATH
    probe: Path | None = None  # probeinterface JSON or .prb: geometry that overrides the source's
    settings: Settings = ()  # this source's reader settings (`source.KEY=VALUE`)
    stub_seconds: float | None = None  # read only the first seconds of each stream
    name: str | None = None  # appended to the source's series/table names to keep sources apart
    start_time: dt.datetime | None = None  # replaces the header start time of this source
    allow_incomplete: bool = False  # convert what an incomplete copy holds (a warning, the shortfall recorded)

    def read_options(self) -> ReadOptions:
        from nwbconvert.readers.base import ReadOptions

        return ReadOptions(self.stub_seconds, self.settings, self.allow_incomplete)


# what each option of ConvertOptions is to the file: provenance records it ("recorded"), it is part of a batch
# session's fingerprint ("fingerprint": it shapes the file beyond what the sources and metadata layers carry)
_BOTH = {"recorded": True, "fingerprint": True}
_RECORDED = {"recorded": True, "fingerprint": False}  # carried by the sources or layers, or cores only
_FINGERPRINT = {"recorded": False, "fingerprint": True}
_NEITHER = {"recorded": False, "fingerprint": False}


@dataclass(frozen=True)
class ConvertOptions:
    """The options of one conversion as given; None (or empty) is "not given", `resolve` fills the defaults."""

    format: str | None = field(default=None, metadata=_RECORDED)  # read fields: of a conversion's single source
    streams: tuple[str, ...] = field(default=(), metadata=_RECORDED)
    sortings: tuple[Path, ...] = field(default=(), metadata=_RECORDED)
    probe: Path | None = field(default=None, metadata=_RECORDED)
    metadata_files: tuple[Path, ...] = field(default=(), metadata=_RECORDED)
    set_values: tuple[str, ...] = field(default=(), metadata=_BOTH)  # KEY=VALUE metadata, source.KEY=VALUE settings
    timezone: str | None = field(default=None, metadata=_BOTH)
    stub_seconds: float | None = field(default=None, metadata=_BOTH)
    allow_incomplete: bool | None = field(default=None, metadata=_BOTH)  # of every source
    dry_run: bool = field(default=False, metadata=_NEITHER)
    overwrite: bool | None = field(default=None, metadata=_NEITHER)
    validate: bool | None = field(default=None, metadata=_FINGERPRINT)
    backend: str | None = field(default=None, metadata=_BOTH)  # a backends.BackendName
    compression: str | None = field(default=None, metadata=_BOTH)  # a Compression
    compression_level: int | None = field(default=None, metadata=_BOTH)  # None: DEFAULT_LEVEL of the method
    jobs: int | None = field(default=None, metadata=_RECORDED)  # cores that compress; None: all
    chunk_mb: float | None = field(default=None, metadata=_BOTH)
    video: str | None = field(default=None, metadata=_BOTH)  # a VideoMode
    dandi_layout: bool | None = field(default=None, metadata=_BOTH)  # videos placed as `dandi organize` does

    def recorded(self) -> dict[str, Any]:
        """What provenance records of how the file was made (defaults filled)."""
        filled = given_wins(self, DEFAULTS)
        return {f.name: getattr(filled, f.name) for f in fields(self) if f.metadata["recorded"]}

    def fingerprint(self) -> dict[str, Any]:
        """The options that shape the file beyond its sources and metadata layers (defaults filled)."""
        filled = given_wins(self, DEFAULTS)
        return {f.name: getattr(filled, f.name) for f in fields(self) if f.metadata["fingerprint"]}


# every option that has a default, and only those
DEFAULTS = ConvertOptions(
    backend=DEFAULT_BACKEND,
    compression=DEFAULT_COMPRESSION,
    chunk_mb=DEFAULT_CHUNK_MB,
    validate=True,
    overwrite=False,
    video=VideoMode.EXTERNAL,
    dandi_layout=False,
)


@dataclass(frozen=True)
class OutputOptions:
    """How to write one file (all defaults filled: build it with `resolve`)."""

    backend: str  # a backends.BackendName
    compression: Compression
    compression_level: int | None
    jobs: int | None
    chunk_mb: float
    validate: bool
    overwrite: bool
    dry_run: bool
    timezone: str | None
    metadata_files: tuple[Path, ...]
    metadata_values: tuple[str, ...]  # --set KEY=VALUE metadata pairs (reader settings went to the sources)
    recorded: dict[str, Any]  # what provenance records of the options
    video: VideoMode = VideoMode.EXTERNAL
    dandi_layout: bool = False

    @property
    def write(self) -> WriteOptions:
        """The writer's options for bulk data."""
        from nwbconvert.writer.compression import WriteOptions

        return WriteOptions(self.compression, self.compression_level, self.jobs, self.chunk_mb)


def given_wins(given: T, other: T) -> T:
    """`other` with each value that `given` gives (not None, not empty) put over it: the command line over a
    config, the command line over a source's entry, the given options over the defaults."""
    values = {f.name: getattr(given, f.name) for f in fields(given)}
    return replace(other, **{k: v for k, v in values.items() if v is not None and v != ()})


def resolve(options: ConvertOptions, sources: Sequence[SourceSpec]) -> tuple[tuple[SourceSpec, ...], OutputOptions]:
    """What to read from each source and how to write the file. The read fields of `options` (format, streams,
    sortings, probe) go over its single source's; its stub and reader settings apply to every source."""
    read_flags = [flag for flag, value in _read_flags(options) if value]
    if read_flags and len(sources) > 1:
        raise UsageError(
            f"{' '.join(read_flags)} with {len(sources)} sources: say which source they belong to: set format, "
            "streams, sortings or probe in its entry of `sources` in the session config."
        )
    settings, metadata_values = split_set(options.set_values)
    given = SourceSpec(Path(), options.format, options.streams, options.sortings, options.probe)
    specs = tuple(
        replace(
            given_wins(replace(given, path=s.path), s),
            settings=s.settings + settings,  # the command line's last, so they win (ReadOptions.reader_option)
            stub_seconds=options.stub_seconds if options.stub_seconds is not None else s.stub_seconds,
            allow_incomplete=bool(options.allow_incomplete) or s.allow_incomplete,
        )
        for s in sources
    )
    filled = given_wins(options, DEFAULTS)
    assert filled.backend is not None and filled.chunk_mb is not None  # DEFAULTS gives them
    output = OutputOptions(
        backend=filled.backend,
        compression=_compression(filled.compression),
        compression_level=filled.compression_level,
        jobs=filled.jobs,
        chunk_mb=filled.chunk_mb,
        validate=filled.validate is not False,
        overwrite=filled.overwrite is True,
        dry_run=filled.dry_run,
        timezone=filled.timezone,
        metadata_files=filled.metadata_files,
        metadata_values=metadata_values,
        recorded=options.recorded(),
        video=_video(filled.video),
        dandi_layout=filled.dandi_layout is True,
    )
    return specs, output


def _compression(value: str | None) -> Compression:
    try:
        return Compression(value)
    except ValueError:
        raise UsageError(f"--compression {value}: choose one of {', '.join(Compression)}.") from None


def _video(value: str | None) -> VideoMode:
    try:
        return VideoMode(value)
    except ValueError:
        raise UsageError(f"--video {value}: choose one of {', '.join(VideoMode)}.") from None


def _read_flags(options: ConvertOptions) -> list[tuple[str, object]]:
    return [
        ("--format", options.format),
        ("--stream", options.streams),
        ("--sorting", options.sortings),
        ("--probe", options.probe),
    ]
