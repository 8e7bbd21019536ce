"""Typed metadata: `MetadataLayer` (every field optional) and the complete `NwbMetadata`."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

_NUMBER = re.compile(r"^\s*[+-]?\d+(?:\.\d*)?\s*$")


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("holds a NUL character (byte 0), which no NWB text may contain; remove it")
    return value


def _no_number(value: Any) -> Any:
    """pydantic reads '0' as 1970-01-01 (seconds since the epoch); a date and time must be written out."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.match(value)):
        raise ValueError(f"'{value}' is a number, not an ISO 8601 date and time such as 2026-01-15T10:00:00+01:00")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
When = Annotated[dt.datetime, BeforeValidator(_no_number)]


class SubjectLayer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    subject_id: Text | None = None
    species: Text | None = None
    sex: Text | None = None
    age: Text | None = None
    date_of_birth: When | None = None
    weight: Text | None = None
    description: Text | None = None
    strain: Text | None = None
    genotype: Text | None = None


class ElectrodeGroupLayer(BaseModel):
    """What the metadata says about one electrode group (a probe, shank or tetrode of the recording)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    location: Text | None = None  # brain area, ideally an Allen CCF acronym: "CA1", "VISp"
    description: Text | None = None


class MetadataLayer(BaseModel):
    """One layer of metadata; keys mirror pynwb's NWBFile and Subject arguments."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    session_start_time: When | None = None
    session_description: Text | None = None
    identifier: Text | None = None
    session_id: Text | None = None
    experimenter: list[Text] | None = None
    lab: Text | None = None
    institution: Text | None = None
    keywords: list[Text] | None = None
    experiment_description: Text | None = None
    subject: SubjectLayer = Field(default_factory=SubjectLayer)
    electrode_groups: dict[Text, ElectrodeGroupLayer] = Field(default_factory=dict)  # by the recording's group name


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

    subject_id: Text
    species: Text
    sex: Text


class NwbMetadata(MetadataLayer):
    """Complete, checked metadata: everything DANDI requires is present and well formed."""

    session_start_time: When
    session_description: Text
    identifier: Text
    subject: Subject
