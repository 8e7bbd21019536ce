"""The reader contract: every built-in reader declares every attribute of `Reader`; readers over neo and over
spikeinterface report an unreadable source in the same one paragraph; SpikeGLX parses each .meta once per read."""

from __future__ import annotations

import sys
import sysconfig
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import SAMPLE_DATA
from nwbconvert.errors import SourceError
from nwbconvert.readers.base import Reader, ReaderBase, ReadOptions

STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()
READERS_DIR = Path(__import__("nwbconvert.readers").readers.__file__).resolve().parent
_counting: list[Counter[str]] = []  # the counter of the block under way (audit hooks cannot be removed)


def _audit(event: str, args: tuple[object, ...]) -> None:
    if not _counting or event != "open" or not isinstance(args[0], str | Path):
        return
    frame = sys._getframe(1)
    while frame is not None and Path(frame.f_code.co_filename).resolve().is_relative_to(STDLIB):
        frame = frame.f_back  # pathlib, io, ...: the caller is the first frame outside the standard library
    if frame is not None and Path(frame.f_code.co_filename).resolve().is_relative_to(READERS_DIR):
        _counting[-1][Path(args[0]).name] += 1


sys.addaudithook(_audit)


@contextmanager
def opens_by_readers() -> Iterator[Counter[str]]:
    """Files opened by nwbconvert's reader code itself (not by neo, probeinterface or the provenance checksum)."""
    counter: Counter[str] = Counter()
    _counting.append(counter)
    try:
        yield counter
    finally:
        _counting.pop()


def test_builtin_readers_declare_the_whole_contract() -> None:
    from nwbconvert.readers.registry import broken, readers

    assert broken() == []
    for name, reader in readers().items():
        assert isinstance(reader, Reader), name
        assert isinstance(reader, ReaderBase), name  # the built-ins take their defaults from one place


@pytest.mark.parametrize("relative", ["", "Sample_g0_imec0/Sample_g0_t0.imec0.ap.bin"])
def test_spikeglx_read_parses_each_meta_once(relative: str) -> None:
    from nwbconvert.readers.spikeglx import SpikeGLXReader

    path = SAMPLE_DATA / "spikeglx" / "Sample_g0" / relative
    folder = path if path.is_dir() else path.parent  # what neo reads: the run, or the folder of the one file
    metas = sorted(p.name for p in folder.rglob("*.meta"))
    assert len(metas) == (3 if path.is_dir() else 2)
    with opens_by_readers() as opened:
        session = SpikeGLXReader().read(path, ReadOptions(stub_seconds=0.01))
    assert session.recordings and session.devices
    assert {name: opened[name] for name in metas} == dict.fromkeys(metas, 1)


def test_spikeinterface_and_neo_readers_report_unreadable_sources_alike(tmp_path: Path) -> None:
    import h5py

    from nwbconvert.readers.edf import EDFReader
    from nwbconvert.readers.mcs import MCSH5Reader

    mcs = tmp_path / "export.h5"
    with h5py.File(mcs, "w") as f:
        f.attrs["McsHdf5ProtocolType"] = "RawData"  # claims raw data, holds none
    edf = tmp_path / "cut.edf"
    edf.write_bytes(b"0       " + b"\x00" * 100)  # an EDF header cut short
    for reader, path in ((MCSH5Reader(), mcs), (EDFReader(), edf)):
        with pytest.raises(SourceError) as raised:
            reader.read(path, ReadOptions())
        message = str(raised.value)
        assert message.startswith(f"{path}: could not be read as {reader.description} ("), message
        assert message.endswith(reader.unreadable_advice) and "\n" not in message
