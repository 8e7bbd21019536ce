"""Multi Channel Systems HDF5 files (MCS Data Manager export), read through spikeinterface."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from nwbconvert.errors import SourceError
from nwbconvert.model import Device, HeaderMetadata, Session, SignalKind
from nwbconvert.provenance import describe_files
from nwbconvert.readers.base import InputKind, Match, ReadOptions, Verified, head
from nwbconvert.readers.si_adapter import recording_from_si

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
STREAMS = "/Data/Recording_0/AnalogStream"


class MCSH5Reader:
    name = "mcs-h5"
    description = "Multi Channel Systems HDF5 file"
    suffixes = (".h5",)
    verified: ClassVar[Verified] = "real"  # tests/test_roundtrip.py converts a real file
    input_kind: ClassVar[InputKind] = "file"
    requires: tuple[tuple[str, str], ...] = ()

    def probe(self, path: Path) -> Match:
        if not (path.is_file() and head(path, 8) == HDF5_MAGIC):
            return Match.NO
        import h5py

        try:
            with h5py.File(path, "r") as f:
                protocol = f.attrs.get("McsHdf5ProtocolType", b"")
        except OSError:
            return Match.NO
        protocol = protocol.decode() if isinstance(protocol, bytes) else str(protocol)
        return Match.CONTENT if protocol == "RawData" else Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        import h5py
        import spikeinterface
        from spikeinterface.extractors import read_mcsh5

        try:
            with h5py.File(path, "r") as f:
                stream_ids = sorted(int(k.split("_")[1]) for k in f[STREAMS])
            recordings = [
                recording_from_si(
                    read_mcsh5(path, stream_id=sid),
                    f"ElectricalSeriesStream{sid}",
                    f"Stream_{sid}",
                    SignalKind.EXTRACELLULAR,
                    options.stub_seconds,
                )
                for sid in stream_ids
            ]
        except Exception as exc:
            raise SourceError(
                f"{path}: could not be read as a {self.description} ({type(exc).__name__}: {exc}). "
                "It may be truncated or not a raw-data export; re-export it from MCS Data Manager."
            ) from exc
        return Session(
            reader=self.name,
            reader_version=f"spikeinterface {spikeinterface.__version__} MCSH5RecordingExtractor",
            source=str(path),
            recordings=tuple(recordings),
            devices=(Device(name="MCS", description=self.description, manufacturer="Multi Channel Systems"),),
            header=HeaderMetadata(),
            source_files=describe_files([path]),
        )
