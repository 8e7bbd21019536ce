"""The archive's own checks in `validate`: dandi-cli's upload-time metadata extraction and dandi-archive's validation
of it as a published asset (`dandi.asset_metadata_invalid`), on converted samples, the real DANDI file and files a
catalogue writes with pynwb; oracles are dandi-cli's `nwb2asset`, NWB Inspector with DANDI's configuration and
literal values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, SAMPLE_DATA, realdata
from nwb_catalogue import GOOD_SUBJECT, write_nwb

SETS = [a for kv in COMPLETE_METADATA for a in ("--set", kv)]
LONG = "s" + "x" * 160  # 161 characters: DANDI's Session.name and StrainType.name allow 150


def _convert(out: Path, *extra: str) -> Path:
    done = nwbconvert("convert", SAMPLE_DATA / "spikeglx" / "Sample_g0", "-o", out, *SETS, *extra)
    assert done.returncode == 0, done.stderr
    return out


def _validate(*paths: Path) -> tuple[int, dict[str, list[dict]]]:
    done = nwbconvert("validate", *paths, "--json", "-j", "1")
    doc = json.loads(done.stdout)
    return done.returncode, {Path(f["file"]).name: f["findings"] for f in doc["result"]["files"]}


def _asset(findings: list[dict]) -> list[dict]:
    return [f for f in findings if f["check_id"] == "dandi.asset_metadata_invalid"]


def _inspector_critical(path: Path) -> list[str]:
    from nwbinspector import Importance, inspect_nwbfile, load_config

    messages = inspect_nwbfile(nwbfile_path=str(path), config=load_config("dandi"), skip_validate=True)
    return [m.check_function_name for m in messages if m.importance is Importance.CRITICAL]


@pytest.mark.parametrize(
    ("key", "location", "field"),
    [
        ("session_id", "/general/session_id", "wasGeneratedBy.name"),
        ("subject.strain", "/general/subject/strain", "wasAttributedTo.strain.name"),
    ],
)
def test_a_value_only_the_archive_refuses_is_an_error_naming_the_field(
    tmp_path: Path, key: str, location: str, field: str
) -> None:
    """A 161-character session_id or strain passes NWB Inspector (DANDI configuration), but dandi upload's own
    extraction (nwb2asset) fails on it: the finding names the NWB field and the schema's message; exit 1."""
    from dandi.metadata.nwb import nwb2asset

    path = _convert(tmp_path / "long.nwb", "--set", f"{key}={LONG}", "--no-validate")
    assert _inspector_critical(path) == []
    with pytest.raises(Exception, match="at most 150 characters"):
        nwb2asset(path)
    code, found = _validate(path)
    assert code == 1
    (finding,) = _asset(found["long.nwb"])
    assert finding["severity"] == "error" and finding["layer"] == "dandi"
    assert finding["location"] == location
    assert f"{field}: String should have at most 150 characters" in finding["message"]
    assert key in finding["message"] and f"Set {key}" in finding["fix"]


def test_convert_refuses_its_own_output_when_the_archive_would(tmp_path: Path) -> None:
    out = tmp_path / "sub-m1_ses-1_ecephys.nwb"
    done = nwbconvert(
        "convert", SAMPLE_DATA / "spikeglx" / "Sample_g0", "-o", out, *SETS, "--set", f"session_id={LONG}"
    )
    assert done.returncode == 1
    assert not out.exists() and (tmp_path / "sub-m1_ses-1_ecephys.rejected.nwb").exists()
    assert "dandi.asset_metadata_invalid at /general/session_id" in done.stderr


def test_a_schema_error_after_extraction_is_mapped_to_its_nwb_field(tmp_path: Path) -> None:
    """A subject without subject_id: extraction succeeds, the published-asset schema refuses the participant
    (wasAttributedTo[0].identifier is required)."""
    from nwbconvert.validate.dandi_asset import extract, published, schema_problems

    path = write_nwb(tmp_path / "no_id.nwb", {**GOOD_SUBJECT, "subject_id": None})
    metadata = extract(path)
    assert metadata["wasAttributedTo"][0]["species"]["name"] == "Mus musculus - House mouse"
    assert "identifier" not in metadata["wasAttributedTo"][0]
    assert any(
        p.field == "wasAttributedTo.identifier" and "'identifier' is a required property" in p.message
        for p in schema_problems(published(metadata, 1000))
    )
    code, found = _validate(path)
    assert code == 1
    (finding,) = _asset(found["no_id.nwb"])
    assert finding["location"] == "/general/subject/subject_id"
    assert "It comes from subject.subject_id" in finding["message"]
    assert "DANDI archive would mark" in finding["message"]


def test_good_files_have_no_asset_finding_and_exit_0(tmp_path: Path) -> None:
    """A converted sample and a catalogue file with a species given as an NCBI taxonomy URL missing from dandi-cli's
    table (which dandi-cli looks up online: offline it must not fail): no error at all, exit 0. The real DANDI file
    (whose old structure the schema layer flags) has no asset finding either."""
    folder = tmp_path / "dandiset"
    folder.mkdir()
    _convert(folder / "sample.nwb")
    write_nwb(folder / "cat.nwb", {**GOOD_SUBJECT, "species": "http://purl.obolibrary.org/obo/NCBITaxon_9685"})
    code, found = _validate(folder)
    assert set(found) == {"sample.nwb", "cat.nwb"}
    assert [f["check_id"] for fs in found.values() for f in fs if f["severity"] == "error"] == []
    assert code == 0
    code, found = _validate(realdata("nwb/sub_anm00239123_ses_20170627T093549_ecephys_and_ogen.nwb"))
    (findings,) = found.values()
    assert _asset(findings) == [] and code == 1  # schema.DtypeError and others, none of this layer


def test_the_extracted_metadata_is_dandi_clis(tmp_path: Path) -> None:
    """What the check validates is what dandi upload sends: nwb2asset's fields, schemaKey Asset."""
    from nwbconvert.validate.dandi_asset import extract

    path = realdata("nwb/sub_anm00239123_ses_20170627T093549_ecephys_and_ogen.nwb")
    metadata = extract(path)
    assert metadata["schemaKey"] == "Asset"
    (participant,) = metadata["wasAttributedTo"]
    assert participant["identifier"] == "anm00239123"
    assert participant["sex"]["name"] == "Male"
    assert participant["species"]["identifier"] == "http://purl.obolibrary.org/obo/NCBITaxon_10090"
    assert metadata["wasGeneratedBy"][0]["startDate"] == "2017-06-27T09:35:49-05:00"


def test_a_file_with_an_external_link_is_refused_as_upload_refuses_it(tmp_path: Path) -> None:
    import h5py

    path = write_nwb(tmp_path / "linked.nwb", n_samples=100)
    other = write_nwb(tmp_path / "other.nwb", n_samples=100)
    with h5py.File(path, "a") as h5:
        h5["acquisition/linked"] = h5py.ExternalLink(str(other), "/acquisition")
    code, found = _validate(path)
    (finding,) = _asset(found["linked.nwb"])
    assert finding["location"] == "/" and "NWB files with external links are not supported" in finding["message"]
    assert "external links" in finding["fix"] and code == 1


def test_warm_up_builds_the_published_asset_validator_before_workers_fork() -> None:
    """In a fresh interpreter, warm_up leaves dandischema's JSON Schema validator for published assets built (the
    forked workers share it; it took a third of a second in each worker's first file when warm-up did not)."""
    import subprocess
    import sys

    code = (
        "from nwbconvert.validate.dandi_asset import warm_up\n"
        "import dandischema.metadata as m\n"
        "before = m._get_jsonschema_validator_local.cache_info().currsize\n"
        "warm_up()\n"
        "print(before, m._get_jsonschema_validator_local.cache_info().currsize)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "1"]
