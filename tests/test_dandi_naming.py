"""The DANDI modality suffix (dandi_naming.py) against dandi-cli's own `dandi organize --files-mode dry` on the same
files: an ecephys sample, an ABF icephys conversion, a suite2p ophys conversion and the real DANDI file; `batch`
names its files so (an ABF session is `_icephys.nwb`); `validate` names it and `--dandi-layout` checks it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cli_runner import ENV, nwbconvert
from conftest import COMPLETE_METADATA, SAMPLE_DATA, realdata
from nwbconvert.dandi_naming import file_modality, modality

ABF = "abf/05210017_vc_abf1.abf"
REAL = "nwb/sub_anm00239123_ses_20170627T093549_ecephys_and_ogen.nwb"
SUITE2P = "ophys/suite2p/fissa_example/suite2p"
OPHYS = ("ophys.indicator=GCaMP6f", "ophys.location=VISp", "ophys.excitation_lambda=920", "ophys.emission_lambda=510")


def _sets(subject: str, *extra: str) -> list[str]:
    pairs = [kv for kv in COMPLETE_METADATA if not kv.startswith("subject.subject_id")]
    return [a for kv in (*pairs, f"subject.subject_id={subject}", *extra) for a in ("--set", kv)]


def _organize(folder: Path, tmp: Path) -> dict[str, str]:
    """dandi organize's dry-run target of each file in `folder`: {source name: target name}."""
    dandi = Path(sys.executable).with_name("dandi")
    done = subprocess.run(
        [str(dandi), "organize", "--files-mode", "dry", "-d", str(tmp / "organized"), str(folder)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    moves = re.findall(r"DRY: (\S+) -> (\S+)", done.stdout + done.stderr)
    return {Path(src).name: Path(dest).name for src, dest in moves}


def _suffix(name: str) -> str:
    """'sub-m1_ses-x_behavior+ecephys.nwb' -> 'behavior+ecephys'; '' when the name has no modality."""
    last = name.split(".")[0].split("_")[-1]
    return "" if "-" in last else last


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("naming") / "files"
    folder.mkdir()
    jobs = [
        (SAMPLE_DATA / "spikeglx" / "Sample_g0", "sample.nwb", _sets("m1")),
        (realdata(ABF), "abf.nwb", _sets("m2")),
        (realdata(SUITE2P), "suite2p.nwb", _sets("m3", *OPHYS)),
    ]
    for source, name, sets in jobs:
        done = nwbconvert("convert", source, "-o", folder / name, *sets)
        assert done.returncode == 0, done.stderr
    shutil.copy(realdata(REAL), folder / "real.nwb")
    return folder


def test_modality_is_dandi_organizes_for_each_kind_of_file(converted: Path, tmp_path: Path) -> None:
    organized = _organize(converted, tmp_path)
    assert set(organized) == {"sample.nwb", "abf.nwb", "suite2p.nwb", "real.nwb"}
    ours = {name: file_modality(converted / name) for name in organized}
    assert ours == {name: _suffix(target) for name, target in organized.items()}
    assert ours == {"sample.nwb": "ecephys", "abf.nwb": "icephys", "suite2p.nwb": "ophys", "real.nwb": "ecephys+ogen"}


def test_the_rule_on_literal_type_sets() -> None:
    assert modality(["ElectricalSeries", "SpatialSeries", "Device", "Subject"]) == "behavior+ecephys"
    assert modality(["PoseEstimation", "PoseEstimationSeries", "ProcessingModule", "Units"]) == ""
    assert modality(["VoltageClampSeries", "IntracellularElectrode"]) == "icephys"
    assert modality(["ImageSeries", "TwoPhotonSeries"]) == "image+ophys"


def test_validate_names_the_modality(converted: Path) -> None:
    done = nwbconvert("validate", converted / "abf.nwb", converted / "suite2p.nwb", "--json", "-j", "1")
    files = {Path(f["file"]).name: f["findings"] for f in json.loads(done.stdout)["result"]["files"]}
    for name, expected in (("abf.nwb", "'icephys'"), ("suite2p.nwb", "'ophys'")):
        (named,) = [f for f in files[name] if f["check_id"] == "dandi.modality"]
        assert named["severity"] == "info" and named["layer"] == "dandi"
        assert f"names this file's modality {expected}" in named["message"]


def test_batch_names_an_abf_session_icephys_as_organize_does(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    (raw / "m1").mkdir(parents=True)
    (raw / "m1" / "s1").symlink_to(SAMPLE_DATA / "spikeglx" / "Sample_g0")
    (raw / "m2" / "s1").mkdir(parents=True)
    (raw / "m2" / "s1" / "cell.abf").symlink_to(realdata(ABF))
    out = tmp_path / "dandiset"
    sets = [a for kv in COMPLETE_METADATA if not kv.startswith("subject.subject_id") for a in ("--set", kv)]
    first = nwbconvert("batch", "--source", "raw/{subject_id}/{session_id}", "-o", out, *sets, "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    written = sorted(p.relative_to(out).as_posix() for p in out.glob("sub-*/*.nwb"))
    assert written == ["sub-m1/sub-m1_ses-s1_ecephys.nwb", "sub-m2/sub-m2_ses-s1_icephys.nwb"]
    organized = _organize(out, tmp_path)
    assert {_suffix(name) for name in organized.values()} == {"ecephys", "icephys"}
    assert all(_suffix(src) == _suffix(dest) for src, dest in organized.items())
    again = nwbconvert("batch", "--source", "raw/{subject_id}/{session_id}", "-o", out, *sets, "--json", cwd=tmp_path)
    sessions = json.loads(again.stdout)["result"]["sessions"]
    assert {s["status"] for s in sessions} == {"skipped"}
    assert sorted(Path(s["output"]).name for s in sessions) == [Path(p).name for p in written]
    dry = nwbconvert(
        "batch", "--source", "raw/{subject_id}/{session_id}", "-o", out, *sets, "--dry-run", "--json", cwd=tmp_path
    )
    shown = json.loads(dry.stdout)["result"]["sessions"]  # a dry run shows the names the files were given
    assert sorted(Path(s["output"]).name for s in shown) == [Path(p).name for p in written]

    wrong = out / "sub-m2" / "sub-m2_ses-s1_ecephys.nwb"  # the name batch gave it before
    shutil.copy(out / "sub-m2" / "sub-m2_ses-s1_icephys.nwb", wrong)
    done = nwbconvert("validate", out / "sub-m2", "--dandi-layout", "--json", "-j", "1")
    files = {Path(f["file"]).name: f["findings"] for f in json.loads(done.stdout)["result"]["files"]}
    (error,) = [f for f in files[wrong.name] if f["check_id"] == "dandi.layout_modality"]
    assert error["severity"] == "error" and "Rename it sub-m2_ses-s1_icephys.nwb" in error["fix"]
    assert not [f for f in files["sub-m2_ses-s1_icephys.nwb"] if f["check_id"] == "dandi.layout_modality"]
    assert done.returncode == 1


def test_batch_names_a_behavior_session_with_every_modality_as_organize_does(tmp_path: Path) -> None:
    """A generated IBL session (wheel SpatialSeries, licks, trials, a raw video, units on probe electrodes): named
    from its plan before it is written; dandi organize (copy mode, as it needs for external videos) names the
    written file the same."""
    from nwbconvert.synthetic.alf import write_alf_session

    generated = write_alf_session(tmp_path / "alf", n_trials=6, videos=("left",))
    (tmp_path / "raw" / "m3").mkdir(parents=True)
    (tmp_path / "raw" / "m3" / "s1").symlink_to(generated.session)
    out = tmp_path / "dandiset"
    sets = [a for kv in COMPLETE_METADATA[2:] for a in ("--set", kv)]  # species, sex, age; the start from ALF
    args = ("--source", "raw/{subject_id}/{session_id}", "-o", out, *sets, "--timezone", "UTC")
    done = nwbconvert("batch", *args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (written,) = out.glob("sub-m3/*.nwb")
    assert written.name == "sub-m3_ses-s1_behavior+ecephys+image.nwb"
    assert file_modality(written) == "behavior+ecephys+image"
    dandi = Path(sys.executable).with_name("dandi")
    organized = tmp_path / "organized"
    command = [str(dandi), "organize", "--files-mode", "copy", "--update-external-file-paths"]
    command += ["--media-files-mode", "symlink", "-d", str(organized), str(out / "sub-m3")]
    ran = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=600)
    assert ran.returncode == 0, ran.stderr
    assert [_suffix(p.name) for p in organized.glob("sub-*/*.nwb")] == ["behavior+ecephys+image"]


def test_a_batch_file_whose_content_disagrees_with_its_name_is_said(converted: Path, tmp_path: Path) -> None:
    """The batch's check after writing (its name comes from the plan): a file named ecephys holding clamp series."""
    from nwbconvert.batch.layout import misnamed

    wrong = tmp_path / "sub-m2_ses-1_ecephys.nwb"
    shutil.copy(converted / "abf.nwb", wrong)
    said = misnamed(wrong, "sub-m2_ses-1")
    assert said is not None and "would name sub-m2_ses-1_ecephys.nwb sub-m2_ses-1_icephys.nwb" in said
    right = tmp_path / "sub-m2_ses-1_icephys.nwb"
    wrong.rename(right)
    assert misnamed(right, "sub-m2_ses-1") is None
