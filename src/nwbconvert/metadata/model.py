"""Typed metadata: `MetadataLayer` (every field optional) and the complete `NwbMetadata`."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

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


Unknown = Literal["unknown"]  # set explicitly by the user; nwbconvert never writes it on its own
Wavelength = Annotated[float, Field(gt=0)] | Unknown  # nm


class OpticalChannelLayer(BaseModel):
    """What the metadata says about one optical channel of a plane (names as --dry-run shows them: Green, Red)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    emission_lambda: Wavelength | None = None  # nm
    description: Text | None = None


class ImagingPlaneLayer(BaseModel):
    """What the metadata says about an imaging plane: under `ophys` for every plane, under
    `imaging_planes.<plane>` for one (names as --dry-run shows them: Plane0)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    indicator: Text | None = None  # "GCaMP6f"
    location: Text | None = None  # brain area, ideally an Allen CCF acronym
    excitation_lambda: Wavelength | None = None  # nm
    emission_lambda: Wavelength | None = None  # nm, for every channel of the plane
    device: Text | None = None  # the microscope's name
    grid_spacing: list[Annotated[float, Field(gt=0)]] | None = None  # µm per pixel: [x, y] or [x, y, z]
    rate: Annotated[float, Field(gt=0)] | None = None  # Hz, for movies whose file gives none
    description: Text | None = None
    microscopy: Literal["two-photon", "one-photon"] | None = None  # which series the movies become
    channels: dict[Text, OpticalChannelLayer] = Field(default_factory=dict)


class PoseLayer(BaseModel):
    """How pose files are timed when neither a video nor a TTL channel times them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate: Annotated[float, Field(gt=0)] | None = None  # Hz: the frame rate of the video the pose was estimated on


class CameraLayer(BaseModel):
    """What the metadata says about one camera (names as --dry-run shows them: CameraBack)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: Text | None = None
    manufacturer: Text | None = None


class TableLayer(BaseModel):
    """What the metadata says about one interval table (`trials`, or another as --dry-run names it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: Text | None = None
    columns: dict[Text, Text] = Field(default_factory=dict)  # column name -> its description


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
    ophys: ImagingPlaneLayer = Field(default_factory=ImagingPlaneLayer)  # every imaging plane of the session
    imaging_planes: dict[Text, ImagingPlaneLayer] = Field(default_factory=dict)  # by plane name: Plane0
    pose: PoseLayer = Field(default_factory=PoseLayer)
    cameras: dict[Text, CameraLayer] = Field(default_factory=dict)  # by camera name: CameraBack
    tables: dict[Text, TableLayer] = Field(default_factory=dict)  # by table name: trials


LIST_KEYS = frozenset({"experimenter", "keywords", "grid_spacing"})


GROUPS = "electrode_groups"
PLANES = "imaging_planes"
NESTED = ("subject", GROUPS, "ophys", PLANES, "pose", "cameras", "tables")


def _plane_keys(prefix: str) -> list[str]:
    plane = [f"{prefix}.{k}" for k in ImagingPlaneLayer.model_fields if k != "channels"]
    return plane + [f"{prefix}.channels.<channel>.{k}" for k in OpticalChannelLayer.model_fields]


def all_keys() -> list[str]:
    """Every key `--set` accepts; `<group>`, `<plane>` and `<channel>` stand for names the source has."""
    top = [k for k in MetadataLayer.model_fields if k not in NESTED]
    groups = [f"{GROUPS}.<group>.{k}" for k in ElectrodeGroupLayer.model_fields]
    subject = [f"subject.{k}" for k in SubjectLayer.model_fields]
    behavior = [f"pose.{k}" for k in PoseLayer.model_fields]
    behavior += [f"cameras.<camera>.{k}" for k in CameraLayer.model_fields]
    behavior += ["tables.<table>.description", "tables.<table>.columns.<column>"]
    return top + subject + groups + _plane_keys("ophys") + _plane_keys(f"{PLANES}.<plane>") + behavior


def is_known_key(key: str) -> bool:
    """A key of `all_keys()`, with any name in place of `<group>`, `<plane>` and `<channel>`."""
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == GROUPS and parts[1]:
        return parts[2] in ElectrodeGroupLayer.model_fields
    if len(parts) >= 3 and parts[0] == PLANES and parts[1]:
        return _is_plane_key(parts[2:])
    if parts[0] == "ophys":
        return _is_plane_key(parts[1:])
    if len(parts) == 3 and parts[0] == "cameras" and parts[1]:
        return parts[2] in CameraLayer.model_fields
    if len(parts) >= 3 and parts[0] == "tables" and parts[1]:
        return parts[2:] == ["description"] or (len(parts) == 4 and parts[2] == "columns" and bool(parts[3]))
    return key in all_keys()


def _is_plane_key(parts: list[str]) -> bool:
    if len(parts) == 3 and parts[0] == "channels" and parts[1]:
        return parts[2] in OpticalChannelLayer.model_fields
    return len(parts) == 1 and parts[0] in ImagingPlaneLayer.model_fields and parts[0] != "channels"


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
