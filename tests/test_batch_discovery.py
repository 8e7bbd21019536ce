"""Study discovery: path templates, explicit session lists and CSV manifests become jobs in DANDI layout whose
metadata layers carry the template fields, per-subject files and study values, in order."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from conftest import ROOT
from helpers import assert_valid
from nwbconvert.batch.discover import StudyRequest, discover
from nwbconvert.batch.layout import label, session_path
from nwbconvert.batch.model import SessionJob
from nwbconvert.errors import MetadataError, UsageError
from nwbconvert.metadata.layers import merge
from nwbconvert.metadata.model import MetadataLayer
from nwbconvert.pipeline import ConvertOptions
from nwbconvert.synthetic.study import StudySession, session_format, write_study


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[StudySession]]:
    root = tmp_path_factory.mktemp("study")
    return root, write_study(root, subjects=3, sessions=2)


def _merged(job: SessionJob) -> MetadataLayer:
    return merge(list(job.layers))[0]


def _run(root: Path, text: str, name: str = "study.yaml", **kwargs: object) -> tuple[SessionJob, ...]:
    config = root / name
    config.write_text(text)
    options = kwargs.pop("options", ConvertOptions())
    return discover(StudyRequest(root / "out", options, config, **kwargs))  # type: ignore[arg-type]


def test_write_study_mixes_formats_in_subject_session_layout(study: tuple[Path, list[StudySession]]) -> None:
    root, sessions = study
    assert [(s.subject, s.session) for s in sessions] == [(f"m{i}", f"day{j}") for i in (1, 2, 3) for j in (1, 2)]
    for i, (subject, session, path) in enumerate(sessions):
        assert path == root / "raw" / subject / session
        metas = list(path.rglob("*.meta"))
        oebins = list(path.rglob("structure.oebin"))
        assert (len(metas), len(oebins)) == ((3, 0) if session_format(i // 2, i % 2) == "spikeglx" else (0, 1))
    assert {session_format(i // 2, i % 2) for i in range(6)} == {"spikeglx", "openephys"}


def test_template_fields_and_layers_reach_the_jobs(study: tuple[Path, list[StudySession]]) -> None:
    root, sessions = study
    (root / "lab_wide.yaml").write_text("lab: Lab Wide\n")
    jobs = _run(
        root,
        "source: raw/{subject_id}/{session_id}\n"
        "metadata:\n  - lab.yaml\n  - {lab: Study Lab, keywords: [batch]}\n"
        "subjects:\n  m1: {lab: Subject Lab, subject: {sex: M}}\n  m2: subjects/m2.yaml\n"
        "timezone: Europe/Berlin\n",
        metadata_files=(root / "lab_wide.yaml",),
        options=ConvertOptions(format="spikeglx", compression="lzf", set_values=("subject.age=P1D",)),
    )
    assert [j.key for j in jobs] == [f"sub-{s}_ses-{d}" for s, d, _ in sessions]
    for job, (subject, session, path) in zip(jobs, sessions):
        assert (job.subject_id, job.session_id, job.fields) == (
            subject,
            session,
            {"subject_id": subject, "session_id": session},
        )
        assert job.output == (root / "out" / f"sub-{subject}" / f"sub-{subject}_ses-{session}_ecephys.nwb").absolute()
        assert [s.path for s in job.sources] == [path] and job.sources[0].format == "spikeglx"
        assert job.options.format is None and job.options.metadata_files == ()
        assert (job.options.timezone, job.options.compression, job.options.set_values) == (
            "Europe/Berlin",
            "lzf",
            ("subject.age=P1D",),
        )
        merged = _merged(job)
        assert (merged.subject.subject_id, merged.session_id, merged.keywords) == (subject, session, ["batch"])
        assert merged.subject.species == "Mus musculus"  # lab.yaml (study metadata)
        assert merged.institution == "nwbconvert"
    by_subject = {j.subject_id: _merged(j) for j in jobs}
    assert (by_subject["m1"].lab, by_subject["m1"].subject.sex) == ("Subject Lab", "M")  # subject over study
    assert (by_subject["m2"].lab, by_subject["m2"].subject.sex, by_subject["m2"].subject.age) == (
        "Study Lab",
        "M",
        "P70D",
    )
    assert (by_subject["m3"].lab, by_subject["m3"].subject.sex) == ("Study Lab", None)  # study over --metadata
    origins = [layer.origin for layer in jobs[0].layers]
    assert origins[0].endswith("lab_wide.yaml") and origins[-1].startswith(str(sessions[0].path))


def test_template_without_session_id_clashes_are_one_error(study: tuple[Path, list[StudySession]]) -> None:
    root, _ = study
    with pytest.raises(UsageError) as err:
        _run(root, "source: raw/{subject_id}/*\n")
    assert "3 output file(s)" in err.value.message and "raw/m1/day1" in err.value.message
    assert "raw/m1/day2" in err.value.message


def test_template_start_time_and_dotted_fields_reach_the_file(
    study: tuple[Path, list[StudySession]], tmp_path: Path
) -> None:
    from pynwb import NWBHDF5IO

    from nwbconvert.pipeline import convert_sources

    root, sessions = study
    subject, session, path = sessions[1]  # an Open Ephys session (UTC header 2026-01-16T10:00)
    target = tmp_path / "data" / "F" / f"{subject}_{session}" / "2026-02-01_09-30-00"
    shutil.copytree(path, target)
    jobs = discover(
        StudyRequest(
            tmp_path / "out",
            ConvertOptions(set_values=("subject.age=P90D",), timezone="America/New_York"),
            source_template=str(tmp_path / "data/{subject.sex}/{subject_id}_{session_id}/{session_start_time}"),
            metadata_files=(root / "lab.yaml",),
        )
    )
    assert len(jobs) == 1
    job = jobs[0]
    assert job.fields == {
        "subject.sex": "F",
        "subject_id": subject,
        "session_id": session,
        "session_start_time": "2026-02-01_09-30-00",
    }
    assert _merged(job).session_start_time == dt.datetime(2026, 2, 1, 9, 30)
    job.output.parent.mkdir(parents=True)
    convert_sources(job.sources, job.output, job.options, None, job.layers)
    assert_valid(job.output)
    with NWBHDF5IO(str(job.output), "r") as io:
        nwb = io.read()
        assert (nwb.subject.subject_id, nwb.session_id, nwb.subject.sex) == (subject, session, "F")
        assert nwb.session_start_time.isoformat() == "2026-02-01T09:30:00-05:00"  # template time, --timezone zone
        assert (nwb.lab, nwb.subject.species, nwb.subject.age) == ("Synthetic Lab", "Mus musculus", "P90D")


def test_unknown_template_field_names_the_known_ones(study: tuple[Path, list[StudySession]]) -> None:
    root, _ = study
    with pytest.raises(UsageError) as err:
        _run(root, "source: raw/{subject_id}/{animal}\n")
    assert "'animal' is not a metadata key" in err.value.message
    assert "session_id" in err.value.message and "subject.sex" in err.value.message
    with pytest.raises(UsageError, match="has no \\{subject_id\\}"):
        _run(root, "source: raw/{session_id}/*\n")
    with pytest.raises(UsageError, match="matched nothing"):
        _run(root, "source: nothere/{subject_id}/{session_id}\n")
    with pytest.raises(UsageError, match="unbalanced braces"):
        _run(root, "source: raw/{subject_id/{session_id}\n")


def test_bad_start_time_in_a_folder_name_is_a_metadata_error(tmp_path: Path) -> None:
    write_study(tmp_path, subjects=1, sessions=1)
    (tmp_path / "raw" / "m1" / "day1").rename(tmp_path / "raw" / "m1" / "yesterday")
    with pytest.raises(MetadataError) as err:
        discover(
            StudyRequest(
                tmp_path / "out", ConvertOptions(), None, str(tmp_path / "raw/{subject_id}/{session_start_time}")
            )
        )
    assert "yesterday" in err.value.message and "ISO 8601" in err.value.message


def test_output_folder_inside_the_study_is_not_a_session(tmp_path: Path) -> None:
    sessions = write_study(tmp_path, subjects=1, sessions=2)
    (tmp_path / "raw" / "dandiset" / "sub-m1").mkdir(parents=True)  # a previous run's output beside the subjects
    jobs = discover(
        StudyRequest(
            tmp_path / "raw" / "dandiset", ConvertOptions(), None, str(tmp_path / "raw/{subject_id}/{session_id}")
        )
    )
    assert [j.sources[0].path for j in jobs] == [s.path for s in sessions]


def test_labels_are_sanitised_inside_the_output_folder(tmp_path: Path) -> None:
    assert [label(v) for v in ("m_1", "../../etc", "/abs/path", "a b/c", "Mouse-7")] == [
        "m-1",
        "etc",
        "abs-path",
        "a-b-c",
        "Mouse-7",
    ]
    out = tmp_path / "out"
    for subject, session in [("../../etc", "/etc/passwd"), ("/abs", "..\\..\\x"), ("m_1", "2026-01-15 10:00")]:
        path = session_path(out, subject, session)
        assert path.resolve().is_relative_to(out.resolve())
        assert path.parent.parent == out.absolute() and path.name.count("_") == 2
    assert session_path(out, "../../etc", "/etc/passwd").name == "sub-etc_ses-etc-passwd_ecephys.nwb"
    with pytest.raises(UsageError, match="no letters or digits"):
        session_path(out, "..", "1")


def test_session_list_sanitises_and_reports_clashes(study: tuple[Path, list[StudySession]]) -> None:
    root, sessions = study
    jobs = _run(
        root,
        f"sessions:\n  - {{subject_id: ../../etc, session_id: /tmp/x, source: {sessions[0].path}}}\n",
    )
    assert jobs[0].output == (root / "out" / "sub-etc" / "sub-etc_ses-tmp-x_ecephys.nwb").absolute()
    assert _merged(jobs[0]).subject.subject_id == "../../etc"  # the metadata keeps the value as given
    with pytest.raises(UsageError) as err:
        _run(
            root,
            "sessions:\n"
            "  - {subject_id: m_1, session_id: '1', source: raw/m1/day1}\n"
            "  - {subject_id: m-1, session_id: '1', source: raw/m1/day2}\n",
        )
    assert "1 output file(s)" in err.value.message and "sub-m-1_ses-1_ecephys.nwb" in err.value.message
    assert "line 2" in err.value.message and "line 3" in err.value.message


def test_session_list_entries_like_session_configs(study: tuple[Path, list[StudySession]]) -> None:
    root, sessions = study
    (root / "extra.yaml").write_text('experimenter: ["Doe, Jane"]\n')
    jobs = _run(
        root,
        "sessions:\n"
        "  - subject_id: m1\n    session_id: a\n    source: raw/m1/day1\n"
        "    session_start_time: 2026-03-01T08:00:00+01:00\n"
        "    metadata: [extra.yaml, {session_description: first}]\n"
        "    set: {subject.age: P30D}\n"
        "  - subject_id: m2\n    session_id: b\n"
        "    sources:\n      - {path: raw/m2/day1, streams: [imec0.ap], name: Rig1}\n"
        "      - {path: raw/m2/day2, format: openephys-binary}\n"
        "subjects:\n  m1: {subject: {age: P99D, sex: F}}\n"
        "metadata: lab.yaml\n",
    )
    first, second = jobs
    assert [s.path for s in first.sources] == [sessions[0].path]
    merged = _merged(first)
    assert merged.session_start_time == dt.datetime(2026, 3, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert (merged.experimenter, merged.session_description, merged.session_id) == (["Doe, Jane"], "first", "a")
    assert (merged.subject.age, merged.subject.sex, merged.lab) == ("P30D", "F", "Synthetic Lab")  # entry over subject
    assert [(s.path, s.streams, s.name, s.format) for s in second.sources] == [
        (sessions[2].path, ("imec0.ap",), "Rig1", None),
        (sessions[3].path, (), None, "openephys-binary"),
    ]
    assert (second.key, _merged(second).subject.subject_id) == ("sub-m2_ses-b", "m2")


def test_study_config_errors_name_line_and_key(study: tuple[Path, list[StudySession]]) -> None:
    root, _ = study
    with pytest.raises(UsageError) as err:
        _run(
            root,
            "sessions:\n"
            "  - subject_id: m1\n    sourc: raw/m1/day1\n"
            "  - subject_id: m2\n    source: raw/m2/day1\n    set: {subject.colour: blue}\n"
            "timezone: Mars/Olympus\n",
        )
    text = err.value.message
    assert "study.yaml: 3 problem(s) in the study config" in text
    assert "line 3, sessions[0].sourc: not a known key (did you mean 'source'?)" in text
    assert "sessions[1].set.subject.colour: not a known key" in text
    assert "line 7, timezone: 'Mars/Olympus' is not a known time zone" in text
    with pytest.raises(UsageError, match=r"line 2, sessions\[0\]: give either `source: PATH` or a `sources:` list"):
        _run(root, "sessions:\n  - subject_id: m1\n    session_id: '1'\n")
    with pytest.raises(UsageError, match="either `source: TEMPLATE` or `sessions:`"):
        _run(root, "source: raw/{subject_id}\nsessions: []\n")
    with pytest.raises(MetadataError) as err:
        _run(root, "source: raw/{subject_id}/{session_id}\nsubjects:\n  m1: {subject: {sex: F, hair: long}}\n")
    assert (
        "line 3, subjects.m1[0].subject.hair: not a known key (known keys: subject_id, species, sex"
        in err.value.message
    )


def test_csv_manifest_alone_or_from_the_study_config(study: tuple[Path, list[StudySession]]) -> None:
    root, sessions = study
    (root / "manifests").mkdir(exist_ok=True)
    csv_text = (
        "path,subject_id,session_id,session_start_time,subject.sex,format\n"
        "../raw/m1/day1,m1,1,2026-01-15T10:00:00+00:00,F,spikeglx\n"
        "\n"
        f"{sessions[5].path},m3,2,20260116_120000,,\n"
    )
    jobs = _run(root, csv_text, name="manifests/sessions.csv")
    assert [(j.key, j.sources[0].path, j.sources[0].format) for j in jobs] == [
        ("sub-m1_ses-1", (root / "manifests" / "../raw/m1/day1"), "spikeglx"),
        ("sub-m3_ses-2", sessions[5].path, None),
    ]
    first, second = (_merged(j) for j in jobs)
    assert (first.session_start_time, first.subject.sex, first.session_id) == (
        dt.datetime(2026, 1, 15, 10, tzinfo=dt.timezone.utc),
        "F",
        "1",
    )
    assert (second.session_start_time, second.subject.sex, second.subject.subject_id) == (
        dt.datetime(2026, 1, 16, 12),
        None,
        "m3",
    )
    assert jobs[1].fields == {
        "subject_id": "m3",
        "session_id": "2",
        "session_start_time": "20260116_120000",
        "subject.sex": "",
    }
    # the same CSV named by a study config, with its per-subject metadata
    via = _run(root, "sessions: manifests/sessions.csv\nsubjects: subjects/{subject_id}.yaml\n", name="via.yaml")
    assert [j.key for j in via] == [j.key for j in jobs]
    assert [_merged(j).subject.sex for j in via] == ["F", "F"]  # CSV value over m1's file (F); m3's file says F
    assert [_merged(j).subject.age for j in via] == ["P60D", "P80D"]


def test_csv_manifest_errors(study: tuple[Path, list[StudySession]]) -> None:
    root, _ = study
    with pytest.raises(UsageError) as err:
        _run(root, "path,subject_id,animal_colour\nraw/m1/day1,m1,blue\n", name="bad.csv")
    assert "line 1 (the header row): column 'animal_colour'" in err.value.message
    assert "subject.sex" in err.value.message
    with pytest.raises(UsageError, match="needs a 'subject_id' column"):
        _run(root, "path,session_id\nraw/m1/day1,1\n", name="bad.csv")
    with pytest.raises(UsageError, match="line 3: has 2 cells"):
        _run(root, "path,subject_id,session_id\nraw/m1/day1,m1,1\nraw/m1/day2,m1\n", name="bad.csv")
    with pytest.raises(MetadataError, match="line 2: session_start_time"):
        _run(root, "path,subject_id,session_start_time\nraw/m1/day1,m1,soon\n", name="bad.csv")


def test_subject_file_template_must_exist(study: tuple[Path, list[StudySession]]) -> None:
    root, _ = study
    with pytest.raises(MetadataError) as err:
        _run(root, "source: raw/{subject_id}/{session_id}\nsubjects: people/{subject_id}.yaml\n")
    assert "people/m1.yaml" in err.value.message and "'m1'" in err.value.message


def test_source_option_and_study_config(study: tuple[Path, list[StudySession]]) -> None:
    """--source with a study config that gives only metadata; both naming sessions is a usage error."""
    root, sessions = study
    config = root / "meta_only.yaml"
    config.write_text("metadata: lab.yaml\nsubjects: subjects/{subject_id}.yaml\n")
    jobs = discover(StudyRequest(root / "out", ConvertOptions(), config, str(root / "raw/{subject_id}/{session_id}")))
    assert [j.sources[0].path for j in jobs] == [s.path for s in sessions]
    assert {j.subject_id: _merged(j).subject.age for j in jobs} == {"m1": "P60D", "m2": "P70D", "m3": "P80D"}
    config.write_text("source: raw/{subject_id}/{session_id}\n")
    with pytest.raises(UsageError, match="both name the sessions"):
        discover(StudyRequest(root / "out", ConvertOptions(), config, "raw/{subject_id}/{session_id}"))
    with pytest.raises(UsageError, match="needs the sessions"):
        discover(StudyRequest(root / "out", ConvertOptions()))


def test_example_study_config_finds_the_sample_recordings() -> None:
    jobs = discover(StudyRequest(Path("/tmp/unused"), ConvertOptions(), ROOT / "configs" / "study.yaml"))
    assert [j.key for j in jobs] == ["sub-m1_ses-1", "sub-m1_ses-2"]
    assert all(s.path.exists() for j in jobs for s in j.sources)
    first, second = (_merged(j) for j in jobs)
    assert (first.subject.sex, first.subject.age, first.lab, jobs[0].options.timezone) == (
        "F",
        "P90D",
        "Systems Neuroscience Lab",
        "Europe/London",
    )
    assert second.session_start_time == dt.datetime(2026, 1, 16, 10, tzinfo=dt.timezone.utc)
    assert second.session_description == "Open Ephys acquisition board recording"
