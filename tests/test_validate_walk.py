"""One walk of a file's structure (validate/walk.py) gives what dandi-cli's own walks give, and what each check's own
walk with h5py's visititems gives; where dandi-cli's answer is not a plain one, the walk leaves it to dandi-cli."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import realdata
from nwbconvert.dandi_naming import file_types
from nwbconvert.validate.checker import load_missing_filters
from nwbconvert.validate.external_files import _external_files
from nwbconvert.validate.walk import DEEP, FileWalk, walk_file


def _typed(group: h5py.Group, name: str, kind: str) -> h5py.Group:
    child = group.create_group(name)
    child.attrs["neurodata_type"] = kind
    child.attrs["description"] = f"a {kind}"
    return child


def _base(path: Path) -> h5py.File:
    h5 = h5py.File(path, "w")
    h5.attrs["neurodata_type"] = "NWBFile"
    devices = h5.create_group("general/devices")
    _typed(devices, "probe", "Device")
    series = _typed(h5.create_group("acquisition"), "movie", "ImageSeries")
    series.create_dataset("external_file", data=np.array([b"movie.mp4", b"movie2.mp4"]))
    series.create_dataset("data", data=np.arange(100.0), chunks=(10,), compression="gzip", shuffle=True)
    return h5


def _soft_twice(h5: h5py.File) -> None:
    h5["acquisition/movie/device"] = h5py.SoftLink("/general/devices/probe")


def _hard_alias(h5: h5py.File) -> None:
    h5["processing"] = h5["general/devices"]  # a second hard link to the same group


def _loop(h5: h5py.File) -> None:
    h5["general/devices/probe/up"] = h5py.SoftLink("/general")


def _dangling(h5: h5py.File) -> None:
    h5["acquisition/movie/device"] = h5py.SoftLink("/general/devices/nothing")


def _external(h5: h5py.File) -> None:
    h5["acquisition/elsewhere"] = h5py.ExternalLink("other.nwb", "/acquisition")


def _bytes_type(h5: h5py.File) -> None:
    h5["general/devices/probe"].attrs["neurodata_type"] = np.bytes_(b"Device")


def _deep(h5: h5py.File) -> None:
    group = h5["general"]
    for i in range(DEEP + 5):
        group = group.create_group(f"g{i}")
    group.attrs["neurodata_type"] = "LabMetaData"


PLAIN = {  # file -> what dandi-cli's get_neurodata_types returns for it (literal)
    "base": ["Device", "ImageSeries"],
    "soft_twice": ["Device (2)", "ImageSeries"],
    "hard_alias": ["Device (2)", "ImageSeries"],
}
UNUSUAL = {"loop": _loop, "dangling": _dangling, "external": _external, "bytes_type": _bytes_type, "deep": _deep}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("walk")
    edits = {"base": None, "soft_twice": _soft_twice, "hard_alias": _hard_alias, **UNUSUAL}
    paths = {}
    for name, edit in edits.items():
        paths[name] = folder / f"{name}.nwb"
        with _base(paths[name]) as h5:
            if edit is not None:
                edit(h5)
    return paths


def _walked(path: Path) -> FileWalk:
    with h5py.File(path, "r") as h5:
        walk = walk_file(h5)
    assert walk is not None
    return walk


def _dandi(path: Path) -> tuple[bool, list[str]] | str:
    """dandi-cli's two answers, or the name of the error it stops with."""
    from dandi.pynwb_utils import get_neurodata_types, nwb_has_external_links

    try:
        return nwb_has_external_links(str(path)), get_neurodata_types(str(path))
    except Exception as exc:
        return type(exc).__name__


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_plain_files_get_dandi_clis_own_answers(files: dict[str, Path], name: str) -> None:
    walk = _walked(files[name])
    assert _dandi(files[name]) == (False, PLAIN[name])
    assert walk.dandi_types is not None and list(walk.dandi_types) == PLAIN[name]


@pytest.mark.parametrize("name", sorted(UNUSUAL))
def test_links_dandi_cli_answers_its_own_way_are_left_to_it(files: dict[str, Path], name: str) -> None:
    assert _walked(files[name]).dandi_types is None
    answer = _dandi(files[name])
    if name in ("loop", "dangling", "external"):  # dandi-cli stops, or finds the link: not a plain answer
        assert answer in ("RecursionError", "KeyError") or answer[0] is True, answer


@pytest.mark.parametrize("name", sorted({*PLAIN, *UNUSUAL}))
def test_the_walk_gives_what_each_checks_own_walk_gives(files: dict[str, Path], name: str) -> None:
    path = files[name]
    walk = _walked(path)
    assert walk.group_types == file_types(path)
    with h5py.File(path, "r") as h5:
        assert load_missing_filters(h5) == set()
    assert walk.filters == {1, 2}  # gzip (deflate) and shuffle, literally as written
    expected = [("/acquisition/movie", ["movie.mp4", "movie2.mp4"])]
    assert list(_external_files(path)) == expected
    assert [(at, [v.decode() for v in value]) for at, value in walk.external_files] == expected


def test_real_files_get_dandi_clis_answers_and_the_same_findings(files: dict[str, Path], tmp_path: Path) -> None:
    """The real DANDI file: dandi-cli's answers; and the whole validation with the walk finds what it finds with
    every check walking the file itself (dandi-cli's extraction included)."""
    import nwbconvert.validate.walk as walk_module
    from nwbconvert.validate.checker import check_file

    real = realdata("nwb/sub_anm00239123_ses_20170627T093549_ecephys_and_ogen.nwb")
    walk = _walked(real)
    dandi = _dandi(real)
    assert isinstance(dandi, tuple) and dandi == (False, list(walk.dandi_types or ()))
    assert dandi[1][0] == "Device (4)"  # two devices, each also reached by a soft link (dandi-cli follows them)
    paths = [real, files["soft_twice"], files["dangling"]]
    walked = [check_file(p).findings for p in paths]
    original = walk_module.walk_file
    walk_module.walk_file = lambda h5: None
    try:
        unwalked = [check_file(p).findings for p in paths]
    finally:
        walk_module.walk_file = original
    assert walked == unwalked
    assert any(f.check_id == "dandi.modality" for f in walked[0])


def test_nwb_version_is_dandi_clis_answer(files: dict[str, Path], tmp_path: Path) -> None:
    """get_nwb_version's answer, handed to dandi-cli's extraction: the real file's text attribute, and a fixed-length
    bytes attribute made a str the way dandi-cli makes it; without the attribute dandi-cli answers itself."""
    from dandi.pynwb_utils import get_nwb_version

    real = realdata("nwb/sub_anm00239123_ses_20170627T093549_ecephys_and_ogen.nwb")
    fixed = tmp_path / "fixed.nwb"
    shutil.copy(files["base"], fixed)
    with h5py.File(fixed, "a") as h5:
        h5.attrs["nwb_version"] = np.bytes_(b"2.7.0")
    assert _walked(real).nwb_version == get_nwb_version(str(real)) == "2.1.0"
    assert _walked(fixed).nwb_version == get_nwb_version(str(fixed)) == "b'2.7.0'"
    assert _walked(files["base"]).nwb_version is None and get_nwb_version(str(files["base"])) is None
