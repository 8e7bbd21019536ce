"""Typed metadata: `MetadataLayer` (every field optional) and the complete `NwbMetadata`."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class SubjectLayer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    subject_id: str | None = None
    species: str | None = None
    sex: str | None = None
    age: str | None = None
    date_of_birth: dt.datetime | None = None
    weight: str | None = None
    description: str | None = None
    strain: str | None = None
    genotype: str | None = None


class ElectrodeGroupLayer(BaseModel):
    """What the metadata says about one electrode group (a probe, shank or tetrode of the recording)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    location: str | None = None  # brain area, ideally an Allen CCF acronym: "CA1", "VISp"
    description: str | None = None


class MetadataLayer(BaseModel):
    """One layer of metadata; keys mirror pynwb's NWBFile and Subject arguments."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    session_start_time: dt.datetime | None = None
    session_description: str | None = None
    identifier: str | None = None
    session_id: str | None = None
    experimenter: list[str] | None = None
    lab: str | None = None
    institution: str | None = None
    keywords: list[str] | None = None
    experiment_description: str | None = None
    subject: SubjectLayer = Field(default_factory=SubjectLayer)
    electrode_groups: dict[str, ElectrodeGroupLayer] = Field(default_factory=dict)  # by the recording's group name


LIST_KEYS = frozenset({"experimenter", "keywords"})


GROUPS = "electrode_groups"


def all_keys() -> list[str]:
    """Every key `--set` accepts; `<group>` stands for an electrode group name of the recording."""
    top = [k for k in MetadataLayer.model_fields if k not in ("subject", GROUPS)]
    groups = [f"{GROUPS}.<group>.{k}" for k in ElectrodeGroupLayer.model_fields]
    return top + [f"subject.{k}" for k in SubjectLayer.model_fields] + groups


def is_known_key(key: str) -> bool:
    """A key of `all_keys()`, with any group name in place of `<group>`."""
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == GROUPS and parts[1]:
        return parts[2] in ElectrodeGroupLayer.model_fields
    return key in all_keys()


class Subject(SubjectLayer):
    """A subject with the fields DANDI requires."""

    subject_id: str
    species: str
    sex: str


class NwbMetadata(MetadataLayer):
    """Complete, checked metadata: everything DANDI requires is present and well formed."""

    session_start_time: dt.datetime
    session_description: str
    identifier: str
    subject: Subject
