"""A Phy / Kilosort output folder on its own (the recording it was sorted from is not there): a units-only file."""

from __future__ import annotations

from pathlib import Path

from nwbconvert.model import Device, Session
from nwbconvert.provenance import describe_files
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions


class SortingFolderReader(ReaderBase):
    name = "sorting-folder"
    description = "Phy / Kilosort output folder without its recording (params.py, spike_times.npy)"
    suffixes = ()
    verified = "real"  # the real Phy export in ../shared/realdata (tests/test_sorting_folder.py, test_formats.py)
    input_kind = "folder"
    note = "session_start_time must be given (a sorting holds none)"

    def probe(self, path: Path) -> Match:
        """CONTENT for a folder with params.py and spike_times.npy; only SUFFIX when the sorted data file is there
        too, so that a recording's reader claiming the same folder wins (its samples are worth converting)."""
        from nwbconvert.sorting.alone import is_sorting_folder, recording_beside

        if not is_sorting_folder(path):
            return Match.NO
        return Match.SUFFIX if recording_beside(path) else Match.CONTENT

    def read(self, path: Path, options: ReadOptions) -> Session:
        from importlib.metadata import version

        from nwbconvert.sorting.alone import read_alone

        sorting = read_alone(path)
        devices = (
            (Device("probe", "The probe of the sorted recording (channel map and positions from the sorter's output)"),)
            if sorting.channels
            else ()
        )
        return Session(
            reader=self.name,
            reader_version=f"spikeinterface {version('spikeinterface')}",
            source=str(path),
            recordings=(),
            devices=devices,
            source_files=describe_files(p for p in sorted(path.iterdir()) if p.is_file()),
            sortings=(sorting,),
        )
