"""A catalogue of NWB files for validation tests: written by pynwb, then damaged with h5py or bytes."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np

GOOD_SUBJECT = {"subject_id": "m1", "species": "Mus musculus", "sex": "F", "age": "P90D", "description": "a mouse"}


def write_nwb(
    path: Path, subject: dict[str, Any] | None = GOOD_SUBJECT, identifier: str | None = None, n_samples: int = 60000
) -> Path:
    """A small but complete ecephys file (electrodes, a compressed ElectricalSeries) that passes DANDI checks.

    With few samples, most of the file is HDF5 structure (object headers, B-trees, heaps), where damage bites.
    """
    from hdmf.backends.hdf5 import H5DataIO
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.ecephys import ElectricalSeries
    from pynwb.file import Subject

    nwb = NWBFile(
        session_description="catalogue file",
        identifier=identifier or str(uuid.uuid4()),
        session_start_time=dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.timezone.utc),
        experimenter=["Doe, Jane"],
        institution="Example University",
        lab="Example Lab",
        keywords=["test"],
        experiment_description="validation catalogue",
        subject=Subject(**subject) if subject is not None else None,
    )
    device = nwb.create_device("probe", description="a test probe", manufacturer="Example")
    group = nwb.create_electrode_group("shank0", "electrodes of shank 0", location="CA1", device=device)
    for _ in range(8):
        nwb.add_electrode(group=group, location="CA1")
    rng = np.random.default_rng(0)
    data = rng.integers(-500, 500, size=(n_samples, 8), dtype=np.int16)
    nwb.add_acquisition(
        ElectricalSeries(
            name="ElectricalSeries",
            description="test traces",
            data=H5DataIO(data, compression="gzip", chunks=(min(6000, n_samples), 8)),
            electrodes=nwb.create_electrode_table_region(list(range(8)), "all"),
            rate=30000.0,
            conversion=1e-6,
        )
    )
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def make_naive_start(path: Path) -> Path:
    """Rewrite session_start_time without a zone, as a careless tool would, through h5py."""
    with h5py.File(path, "r+") as f:
        del f["session_start_time"]
        f.create_dataset("session_start_time", data="2024-05-01T09:30:00", dtype=h5py.string_dtype())
    return path


def truncate(path: Path, keep_fraction: float = 0.6) -> Path:
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.truncate(int(size * keep_fraction))
    return path


def zero_bytes(path: Path, at_fraction: float = 0.4, n: int = 8192) -> Path:
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(int(size * at_fraction))
        f.write(b"\x00" * n)
    return path


def break_structure(path: Path) -> Path:
    """Zero 4 KiB just after the superblock: HDF5 cannot open the root group any more."""
    with path.open("r+b") as f:
        f.seek(800)
        f.write(b"\x00" * 4096)
    return path


def _text(path: Path) -> Path:
    path.write_text("subject_id: m1\n")
    return path


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


RECIPES: dict[str, Callable[[Path], Path]] = {
    "valid.nwb": write_nwb,
    "no_subject.nwb": lambda p: write_nwb(p, subject=None),
    "no_species.nwb": lambda p: write_nwb(p, {**GOOD_SUBJECT, "species": None}),
    "species_mouse.nwb": lambda p: write_nwb(p, {**GOOD_SUBJECT, "species": "mouse"}),
    "species_felis.nwb": lambda p: write_nwb(p, {**GOOD_SUBJECT, "species": "Felis catus"}),
    "sex_male.nwb": lambda p: write_nwb(p, {**GOOD_SUBJECT, "sex": "male"}),
    "age_90_days.nwb": lambda p: write_nwb(p, {**GOOD_SUBJECT, "age": "90 days"}),
    "slash_id.nwb": lambda p: write_nwb(p, {**GOOD_SUBJECT, "subject_id": "m/1"}),
    "naive_start.nwb": lambda p: make_naive_start(write_nwb(p)),
    "truncated.nwb": lambda p: truncate(write_nwb(p)),
    "zeroed.nwb": lambda p: zero_bytes(write_nwb(p, n_samples=100)),
    "broken_structure.nwb": lambda p: break_structure(write_nwb(p, n_samples=100)),
    "text.nwb": _text,
    "empty.nwb": _empty,
    "twin_a.nwb": lambda p: write_nwb(p, identifier="shared-identifier"),
    "twin_b.nwb": lambda p: write_nwb(p, identifier="shared-identifier"),
}


def looping(path: Path) -> Path:
    """With ndx-pose's namespace cached too, the same 8 KiB of zeros land inside a cached specification whose
    read makes HDF5 loop forever (h5py's `dataset[()]` never returns)."""
    import ndx_pose  # noqa: F401  (registers its namespace: pynwb then caches it in every file it writes)

    return zero_bytes(write_nwb(path, n_samples=100))


def build(folder: Path, looping_file: Path) -> None:
    """Every recipe's file in `folder`, then the looping file. Run it in a fresh interpreter (`build_fresh`):
    which namespaces pynwb caches, and so where damage lands, depends on the extensions a process imported."""
    for name, make in RECIPES.items():
        make(folder / name)
    looping(looping_file)


def build_fresh(folder: Path, looping_file: Path) -> None:
    import subprocess
    import sys

    here = str(Path(__file__).parent)
    code = f"import sys; sys.path.insert(0, {here!r}); import nwb_catalogue as c; c.build(*map(c.Path, sys.argv[1:]))"
    subprocess.run([sys.executable, "-c", code, str(folder), str(looping_file)], check=True, timeout=600)
