"""Base for readers that are thin adapters over a neo rawio class.

A reader names the rawio (`rawio_class`, `rawio_path_argument`, and `rawio_path` where the path neo opens is
not the one given) and implements `probe`; `read` is the template below, and each step is a hook a reader
overrides only where its format needs it.
"""

from __future__ import annotations

import datetime as dt
import warnings
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from nwbconvert.errors import SourceError
from nwbconvert.model import Device, EventChannel, HeaderMetadata, Recording, Session, Sorting
from nwbconvert.provenance import describe_files
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions, walk_files
from nwbconvert.readers.neo_adapter import DEFAULT_POLICY, StreamPolicy, recordings_from_rawio
from nwbconvert.readers.neo_events import events_from_rawio
from nwbconvert.readers.neo_units import sorting_from_rawio

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO


class NeoReader(ReaderBase):
    """Subclasses set the class attributes and implement `probe`."""

    rawio_class: ClassVar[str]  # the class in neo.rawio, e.g. "IntanRawIO"
    rawio_path_argument: ClassVar[Literal["filename", "dirname"]] = "filename"  # how that class takes the path
    link_units_by_number: ClassVar[bool] = False  # see neo_units: spike channel SPK01 <-> signal channel FP01

    def suffix_match(self, path: Path) -> Match:
        """SUFFIX for a file with one of the reader's suffixes (for suffixes no other reader claims)."""
        return Match.SUFFIX if path.is_file() and path.suffix.lower() in self.suffixes else Match.NO

    def rawio_path(self, path: Path) -> Path:
        """What neo opens for `path`: the path itself unless the format points elsewhere (its folder, main file)."""
        return path

    def open_rawio(self, path: Path) -> BaseRawIO:
        """An unparsed neo rawio for `path` (overridden only where neo takes more than the path)."""
        import neo.rawio

        rawio_class = getattr(neo.rawio, self.rawio_class)
        target = str(self.rawio_path(path))
        return rawio_class(dirname=target) if self.rawio_path_argument == "dirname" else rawio_class(filename=target)

    def policy(self, path: Path, rawio: BaseRawIO) -> StreamPolicy:
        return DEFAULT_POLICY

    def header_metadata(self, path: Path, rawio: BaseRawIO) -> HeaderMetadata:
        return HeaderMetadata(session_start_time=annotated_start_time(rawio))

    def source_paths(self, path: Path) -> list[Path]:
        return list(walk_files(path)) if path.is_dir() else [path]

    def devices(self, path: Path, recordings: list[Recording]) -> tuple[Device, ...]:
        return (Device(name=self.name, description=self.description, manufacturer=self.manufacturer),)

    def waveform_unit(self, rawio: BaseRawIO, unit: str) -> str:
        """The unit of stored spike waveforms (a reader fixes units neo leaves blank)."""
        return unit

    def events(self, rawio: BaseRawIO) -> list[EventChannel]:
        """The source's event and epoch channels (a reader may read them its own way)."""
        return events_from_rawio(rawio)

    def sortings(self, path: Path, rawio: BaseRawIO, recordings: list[Recording]) -> tuple[Sorting, ...]:
        """The units stored in the source (neo's spike channels; a reader may add the ones neo does not read)."""
        waveform_unit = partial(self.waveform_unit, rawio)
        sorting = sorting_from_rawio(rawio, self.name, str(path), recordings, waveform_unit, self.link_units_by_number)
        return (sorting,) if sorting is not None else ()

    def finish(self, path: Path, session: Session) -> Session:
        """The last step: a reader may narrow or annotate the session (the streams of one file, say)."""
        return session

    def read(self, path: Path, options: ReadOptions) -> Session:
        """The template: parse the headers, then the hooks above; samples stay on disk."""
        rawio = self.parse(path)
        with self.reading(path):
            recordings = recordings_from_rawio(rawio, self.policy(path, rawio), options.stub_seconds)
            header = self.header_metadata(path, rawio)
            events = self.events(rawio)
            sortings = self.sortings(path, rawio, recordings)
        if not recordings and not any(len(e) for e in events) and not any(s.units for s in sortings):
            raise SourceError(
                f"{path}: the {self.description} source holds no sampled signal, no event and no sorted unit: "
                "there is nothing to convert. Check that the data files of the recording were copied beside its "
                "headers."
            )
        import neo

        session = Session(
            reader=self.name,
            reader_version=f"neo {neo.__version__} {type(rawio).__name__}",
            source=str(path),
            recordings=tuple(recordings),
            devices=self.devices(path, recordings),
            header=header,
            source_files=describe_files(self.source_paths(path)),
            events=tuple(events),
            sortings=sortings,
        )
        return self.finish(path, session)

    def parse(self, path: Path) -> BaseRawIO:
        """The rawio with its header parsed; any failure becomes a one-paragraph SourceError."""
        with self.reading(path), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rawio = self.open_rawio(path)
            rawio.parse_header()
        return rawio


def annotated_start_time(rawio: BaseRawIO) -> dt.datetime | None:
    """The recording start that neo found in the headers, if any."""
    blocks = rawio.raw_annotations.get("blocks", [])
    if not blocks:
        return None
    block = blocks[0]
    candidates = [block.get("rec_datetime"), block.get("startdate")]
    segments = block.get("segments", [])
    if segments:
        candidates.append(segments[0].get("rec_datetime"))
    for value in candidates:
        if isinstance(value, dt.datetime):
            return value
    return None
