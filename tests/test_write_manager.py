"""The writer's BuildManager (writer/manager.py: pynwb's type map copied once per process, its object mappers kept)
and its cached specifications (spec_texts.cache_specs, from texts made once per type map): the first file and a
later one written in the same process are the file pynwb's default `NWBHDF5IO(path, "w")` writes, cached specs
and ".specloc" included, and an extension imported after the first write is written and cached too. Oracle:
pynwb's own write path, compared object by object with h5py, and pynwb + ndx-pose reading the file back. Each case
runs in a fresh interpreter, so that the first write really is the process's first (and ndx-pose is not yet
imported)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np

FILE = textwrap.dedent(
    """
    import sys, uuid
    from datetime import datetime, timezone
    from pathlib import Path
    import numpy as np
    from pynwb import NWBFile, NWBHDF5IO, TimeSeries
    from pynwb.icephys import VoltageClampSeries

    def make(name):
        stamp = datetime(2026, 1, 15, 10, tzinfo=timezone.utc)
        f = NWBFile("a cell", name, stamp, file_create_date=stamp, experimenter=["Doe, Jane"], lab="L")
        device = f.create_device("amp")
        electrode = f.create_icephys_electrode(name="e0", description="patch", device=device)
        for i in range(3):
            vc = VoltageClampSeries(name=f"vc{i}", data=np.arange(50.0) * (i + 1), electrode=electrode, gain=0.02,
                                    rate=10000.0, starting_time=0.1 * i, sweep_number=np.uint32(i))
            f.add_intracellular_recording(electrode=electrode, response=vc)
        f.add_acquisition(TimeSeries(name="lick", data=np.array([0, 1, 1, 0]), unit="a.u.", rate=2.0))
        f.add_trial_column("side", "which side")
        f.add_trial(start_time=0.0, stop_time=1.0, side="left")
        f.add_trial(start_time=1.0, stop_time=2.0, side="right")
        return f

    from nwbconvert.writer.hdf5 import write_hdf5
    out = Path(sys.argv[1])
    write_hdf5(make("same"), out / "first.nwb")
    write_hdf5(make("same"), out / "reused.nwb")
    with NWBHDF5IO(str(out / "pynwb.nwb"), "w") as io:
        io.write(make("same"))
    """
)

EXTENSION = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timezone
    from pathlib import Path
    from pynwb import NWBFile

    from nwbconvert.writer.hdf5 import write_hdf5
    out = Path(sys.argv[1])
    stamp = datetime(2026, 1, 15, 10, tzinfo=timezone.utc)
    write_hdf5(NWBFile("before", "before", stamp), out / "before.nwb")
    from ndx_pose import Skeleton, Skeletons  # registers ndx-pose after the first write
    f = NWBFile("after", "after", stamp)
    behavior = f.create_processing_module("behavior", "pose")
    skeleton = Skeleton(name="mouse", nodes=["snout", "tail"], edges=[[0, 1]])
    behavior.add(Skeletons(skeletons=[skeleton]))
    write_hdf5(f, out / "after.nwb")
    """
)


def run(script: str, out: Path) -> None:
    done = subprocess.run([sys.executable, "-c", script, str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def tree(path: Path) -> dict[str, object]:
    """Every group, dataset and attribute of the file by path, with references as the paths they point to and
    object ids (random per object) left out."""
    found: dict[str, object] = {}
    with h5py.File(path, "r") as f:

        def plain(value: object) -> object:
            if isinstance(value, h5py.Reference):
                return ("ref", f[value].name)
            if isinstance(value, np.void | tuple):
                return tuple(plain(v) for v in value)
            if isinstance(value, np.ndarray):
                if value.dtype == object or value.dtype.names:
                    return (str(value.dtype), value.shape, [plain(v) for v in value.ravel()])
                return (str(value.dtype), value.shape, value.tolist())
            return value

        def visit(name: str, obj: object) -> None:
            assert isinstance(obj, (h5py.Group, h5py.Dataset))
            kind = "group" if isinstance(obj, h5py.Group) else ("dataset", str(obj.dtype), obj.shape)
            found[name] = kind if isinstance(obj, h5py.Group) else (kind, plain(obj[()]))
            for key, value in obj.attrs.items():
                if key != "object_id":
                    found[f"{name}@{key}"] = plain(value)

        visit("/", f)
        f.visititems(visit)
    return found


def test_the_first_and_a_later_file_in_the_process_are_what_pynwb_writes(tmp_path: Path) -> None:
    run(FILE, tmp_path)
    default = tree(tmp_path / "pynwb.nwb")
    for name in ("first.nwb", "reused.nwb"):
        ours = tree(tmp_path / name)
        assert sorted(ours) == sorted(default)
        differing = [key for key in default if ours[key] != default[key]]
        assert differing == []
    reused = tree(tmp_path / "reused.nwb")
    assert "acquisition/vc2" in reused and "general/intracellular_ephys/intracellular_recordings" in reused
    assert any(key.startswith("specifications/core/") for key in reused)
    assert reused["/@.specloc"] == ("ref", "/specifications")


def test_an_extension_imported_after_the_first_write_is_written(tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO

    run(EXTENSION, tmp_path)
    with NWBHDF5IO(str(tmp_path / "after.nwb"), "r", load_namespaces=True) as io:
        nwbfile = io.read()
        skeleton = nwbfile.processing["behavior"]["Skeletons"].skeletons["mouse"]
        assert list(skeleton.nodes[:]) == ["snout", "tail"]
    with h5py.File(tmp_path / "after.nwb", "r") as f:
        assert "ndx-pose" in f["specifications"]
    with h5py.File(tmp_path / "before.nwb", "r") as f:
        assert "ndx-pose" not in f["specifications"]
