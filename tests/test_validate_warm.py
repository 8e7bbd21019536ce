"""Validation that loads each set of cached namespaces once per worker (validate/opened.py) finds exactly what
cold runs of pynwb's validator and NWB Inspector (DANDI configuration) find, file by file."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from functools import partial
from pathlib import Path

import h5py
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, SAMPLE_DATA, realdata

SOURCES = (
    "abf/05210017_vc_abf1.abf",
    "edf/mne/test.edf",
    "brainvision/mne/test.vhdr",
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files nwbconvert wrote (icephys, EEG, SpikeGLX), the real DANDI file, and an edited copy of one."""
    out = tmp_path_factory.mktemp("warm")
    sets = [f"--set={pair}" for pair in COMPLETE_METADATA]
    sources = [realdata(s) for s in SOURCES] + [SAMPLE_DATA / "spikeglx"]
    for i, source in enumerate(sources):
        result = nwbconvert("convert", source, "-o", out / f"f{i}.nwb", *sets, "--stub", "1")
        assert result.returncode == 0, result.stderr
    shutil.copy(realdata("nwb/sub_anm00239123_ses_20170627T093549_ecephys_and_ogen.nwb"), out / "dandi.nwb")
    edited = out / "f9_species.nwb"
    shutil.copy(out / "f0.nwb", edited)
    with h5py.File(edited, "a") as f:  # a best-practice finding the others lack, with the same cached specs
        del f["general/subject/species"]
        f["general/subject"].create_dataset("species", data="mouse")
    return out


def _cold(path: Path) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    """(check, message) of pynwb's validate and of NWB Inspector, each run on its own in this process."""
    from nwbinspector import inspect_nwbfile, load_config
    from pynwb.validation import validate

    schema = Counter((f"schema.{type(e).__name__}", str(e.reason)) for e in validate(path=str(path)))
    messages = inspect_nwbfile(nwbfile_path=path, config=load_config("dandi"), skip_validate=True)
    inspector = Counter(_named(m.check_function_name, m.message) for m in messages if m is not None)
    return schema, inspector


def _named(check: str, message: str) -> tuple[str, str]:
    """A check that crashed inside NWB Inspector is reported as `<check>.crashed` with the error's last line."""
    crashed = re.match(r"During evaluation of '(\w+)'", check)
    if crashed is None:
        return check, message
    return f"{crashed[1]}.crashed", "NWB Inspector's check failed to run: " + message.strip().splitlines()[-1]


def _ours(report: dict) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    findings = report["findings"]
    schema = Counter((f["check_id"], f["message"]) for f in findings if f["layer"] == "schema")
    inspector = Counter((f["check_id"], f["message"]) for f in findings if f["layer"] == "best_practice")
    return schema, inspector


def test_warm_workers_find_what_cold_runs_find(folder: Path) -> None:
    result = nwbconvert("validate", folder, "-j", "2", "--json")
    reports = {Path(r["file"]).name: r for r in json.loads(result.stdout)["result"]["files"]}
    assert len(reports) == 6
    for path in sorted(folder.glob("*.nwb")):
        assert _ours(reports[path.name]) == _cold(path), path.name
    edited = _ours(reports["f9_species.nwb"])[1]
    assert any(check == "check_subject_species_form" for check, _ in edited)  # the edit is seen, not a cached result


def test_one_worker_and_many_agree(folder: Path) -> None:
    serial = json.loads(nwbconvert("validate", folder, "-j", "1", "--json").stdout)["result"]["files"]
    parallel = json.loads(nwbconvert("validate", folder, "-j", "2", "--json").stdout)["result"]["files"]
    assert [_ours(r) for r in serial] == [_ours(r) for r in parallel]


def test_files_this_installation_wrote_skip_loading_their_specs(folder: Path) -> None:
    """The files nwbconvert wrote here cache exactly pynwb's loaded namespaces (so the findings compared above came
    from pynwb's own catalog); the DANDI file, written by older versions, has its specs loaded from the file."""
    from nwbconvert.validate import opened

    assert opened.installed_specs(opened.cached_specs(folder / "f0.nwb") or {}) is not None
    assert opened.installed_specs(opened.cached_specs(folder / "dandi.nwb") or {}) is None


def test_cached_texts_are_what_h5py_reads(folder: Path) -> None:
    """The texts read with HDF5's low-level calls are each cached specification dataset's value as h5py's
    high-level API reads it, for every file (pynwb's own writes and the DANDI file's older specs)."""
    from nwbconvert.validate import opened

    for path in sorted(folder.glob("*.nwb")):
        expected: dict[str, str] = {}
        with h5py.File(path, "r") as h5:
            group = h5[h5.attrs[".specloc"]]
            group.visititems(partial(_text_of, expected))
        assert len(expected) > 10
        assert opened.cached_specs(path) == expected, path.name


def _text_of(texts: dict[str, str], name: str, obj: object) -> None:
    if isinstance(obj, h5py.Dataset):
        value = obj[()]
        texts[name] = value.decode() if isinstance(value, bytes) else str(value)
