"""Base for readers that are thin adapters over a neo rawio class."""

from __future__ import annotations

import datetime as dt
import warnings
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from nwbconvert.errors import NwbConvertError, SourceError
from nwbconvert.model import Device, EventChannel, HeaderMetadata, Recording, Session
from nwbconvert.provenance import describe_files
from nwbconvert.readers.base import Match, ReadOptions, walk_files
from nwbconvert.readers.neo_adapter import DEFAULT_POLICY, StreamPolicy, recordings_from_rawio
from nwbconvert.readers.neo_events import events_from_rawio
from nwbconvert.readers.neo_units import sorting_from_rawio


class NeoReader:
    """Subclasses set the class attributes and implement `probe` and `open_rawio`."""

    name: ClassVar[str]
    description: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]
    requires: ClassVar[tuple[tuple[str, str], ...]] = ()
    manufacturer: ClassVar[str] = ""

    def probe(self, path: Path) -> Match:
        raise NotImplementedError

    def open_rawio(self, path: Path) -> Any:
        """An unparsed neo rawio for `path`."""
        raise NotImplementedError

    def policy(self, path: Path, rawio: Any) -> StreamPolicy:
        return DEFAULT_POLICY

    def header_metadata(self, path: Path, rawio: Any) -> HeaderMetadata:
        return HeaderMetadata(session_start_time=annotated_start_time(rawio))

    def source_paths(self, path: Path) -> list[Path]:
        return list(walk_files(path)) if path.is_dir() else [path]

    def devices(self, recordings: list[Recording]) -> tuple[Device, ...]:
        return (Device(name=self.name, description=self.description, manufacturer=self.manufacturer),)

    link_units_by_number: ClassVar[bool] = False  # see neo_units: spike channel SPK01 <-> signal channel FP01

    def waveform_unit(self, rawio: Any, unit: str) -> str:
        """The unit of stored spike waveforms (a reader fixes units neo leaves blank)."""
        return unit

    def events(self, rawio: Any) -> list[EventChannel]:
        """The source's event and epoch channels (a reader may read them its own way)."""
        return events_from_rawio(rawio)

    def read(self, path: Path, options: ReadOptions) -> Session:
        rawio = self.parse(path)
        try:
            recordings = recordings_from_rawio(rawio, self.policy(path, rawio), options.stub_seconds)
            header = self.header_metadata(path, rawio)
            events = self.events(rawio)
            sorting = sorting_from_rawio(
                rawio, self.name, str(path), recordings, partial(self.waveform_unit, rawio), self.link_units_by_number
            )
        except NwbConvertError:
            raise
        except Exception as exc:
            raise self.unreadable(path, exc) from exc
        if not recordings:
            raise SourceError(f"{path}: the {self.description} source holds no sampled signal that could be converted.")
        import neo

        return Session(
            reader=self.name,
            reader_version=f"neo {neo.__version__} {type(rawio).__name__}",
            source=str(path),
            recordings=tuple(recordings),
            devices=self.devices(recordings),
            header=header,
            source_files=describe_files(self.source_paths(path)),
            events=tuple(events),
            sortings=(sorting,) if sorting is not None else (),
        )

    def parse(self, path: Path) -> Any:
        """The rawio with its header parsed; any failure becomes a one-paragraph SourceError."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rawio = self.open_rawio(path)
                rawio.parse_header()
        except NwbConvertError:
            raise
        except Exception as exc:
            raise self.unreadable(path, exc) from exc
        return rawio

    def unreadable(self, path: Path, exc: Exception) -> SourceError:
        return SourceError(
            f"{path}: could not be read as {self.description} ({type(exc).__name__}: {exc}). "
            "The recording may be truncated, damaged or incomplete (a missing sibling file); check "
            "that every file of the recording was copied, or choose another reader with --format."
        )


def annotated_start_time(rawio: Any) -> dt.datetime | None:
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
