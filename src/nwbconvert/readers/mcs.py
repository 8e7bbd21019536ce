"""Multi Channel Systems HDF5 files (MCS Data Manager export), read through spikeinterface."""

from __future__ import annotations

from pathlib import Path

from nwbconvert.model import Recording, SignalKind
from nwbconvert.readers.base import Match, ReadOptions
from nwbconvert.readers.catalog_hdf5 import hdf5_root
from nwbconvert.readers.si_adapter import SIReader, recording_from_si

STREAMS = "/Data/Recording_0/AnalogStream"


class MCSH5Reader(SIReader):
    name = "mcs-h5"
    description = "Multi Channel Systems HDF5 file"
    suffixes = (".h5",)
    verified = "real"  # tests/test_roundtrip.py converts a real file
    manufacturer = "Multi Channel Systems"
    extractor = "MCSH5RecordingExtractor"
    device_name = "MCS"
    unreadable_advice = "It may be truncated or not a raw-data export; re-export it from MCS Data Manager."

    def probe(self, path: Path) -> Match:
        _, attrs = hdf5_root(path)
        return Match.CONTENT if attrs.get("McsHdf5ProtocolType") == "RawData" else Match.NO

    def recordings(self, path: Path, options: ReadOptions) -> list[Recording]:
        import h5py
        from spikeinterface.extractors import read_mcsh5

        with h5py.File(path, "r") as f:
            stream_ids = sorted(int(k.split("_")[1]) for k in f[STREAMS])
        return [
            recording_from_si(
                read_mcsh5(path, stream_id=sid),
                f"ElectricalSeriesStream{sid}",
                f"Stream_{sid}",
                SignalKind.EXTRACELLULAR,
                options.stub_seconds,
            )
            for sid in stream_ids
        ]
