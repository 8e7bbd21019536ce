"""The archive's own checks of an NWB asset: dandi-cli's metadata extraction at upload, then dandi-archive's
validation of that metadata as a published asset.

`dandi upload` extracts the asset's metadata with `dandi.metadata.nwb.nwb2asset` (through `NWBAsset.get_metadata`)
and refuses the file when that fails ("failed to extract metadata"); it sends the metadata with `schemaKey` "Asset".
The archive adds the fields it owns and runs `dandischema.metadata.validate(metadata, schema_key="PublishedAsset",
json_validation=True)`; an asset that fails is marked invalid and blocks publishing. `dandi validate` runs
neither. Here the archive's fields are filled with placeholders of the form it gives them (`ARCHIVE_FIELDS`), so
only what the file gives can fail. Offline: dandi-cli's metadata cache is off (`DANDI_CACHE=ignore`, unless set)
and a species given as an NCBI taxonomy URL missing from dandi-cli's table is not looked up online (dandi-cli
fetches only its label). Zarr stores are not checked: dandi-cli extracts nothing from their content.

`modality_findings` names the modality `dandi organize` gives the file's content (dandi_naming.py): an info
finding `dandi.modality`, and with `--dandi-layout` an error `dandi.layout_modality` when the name says another.
"""

from __future__ import annotations

import datetime
import os
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nwbconvert.validate.findings import Finding, Severity, ValidationLayer
from nwbconvert.validate.walk import FileWalk

os.environ.setdefault("DANDI_CACHE", "ignore")  # dandi-cli would otherwise memoize every extraction on disk

CHECK = "dandi.asset_metadata_invalid"
PUBLISHED = "PublishedAsset"  # the schema key the archive validates an asset's metadata against
ARCHIVE_FIELDS = (
    "id",
    "identifier",
    "path",
    "contentUrl",
    "contentSize",
    "digest",
    "publishedBy",
    "datePublished",
    "schemaKey",
)
"""What the archive (and dandi-cli's upload) sets, filled here with placeholders."""


@dataclass(frozen=True)
class NwbField:
    """Where an asset field comes from in the file: nwbconvert's metadata key and the path inside the NWB file."""

    key: str
    location: str
    hint: str = ""


SUBJECT = "/general/subject"
_FIELDS = {
    "wasAttributedTo.identifier": NwbField("subject.subject_id", f"{SUBJECT}/subject_id"),
    "wasAttributedTo.species": NwbField(
        "subject.species", f"{SUBJECT}/species", "a species DANDI knows or its NCBI taxonomy URL"
    ),
    "wasAttributedTo.sex": NwbField("subject.sex", f"{SUBJECT}/sex", "M, F, U or O"),
    "wasAttributedTo.age": NwbField("subject.age", f"{SUBJECT}/age", "an ISO 8601 duration such as P90D"),
    "wasAttributedTo.strain": NwbField("subject.strain", f"{SUBJECT}/strain", "at most 150 characters"),
    "wasAttributedTo.genotype": NwbField("subject.genotype", f"{SUBJECT}/genotype"),
    "wasAttributedTo.cellLine": NwbField("subject.strain", f"{SUBJECT}/strain"),
    "wasGeneratedBy.name": NwbField("session_id", "/general/session_id", "at most 150 characters"),
    "wasGeneratedBy.identifier": NwbField("session_id", "/general/session_id"),
    "wasGeneratedBy.description": NwbField("session_description", "/session_description"),
    "wasGeneratedBy.startDate": NwbField("session_start_time", "/session_start_time", "a date and time with a zone"),
}
_EXTRACTORS = {  # dandi-cli's extractor function -> the asset field it fills
    "extract_species": "wasAttributedTo.species",
    "extract_sex": "wasAttributedTo.sex",
    "extract_age": "wasAttributedTo.age",
    "parse_age": "wasAttributedTo.age",
    "extract_strain": "wasAttributedTo.strain",
    "extract_session": "wasGeneratedBy",
}
_SUBMODELS = {"Session": "wasGeneratedBy", "StrainType": "wasAttributedTo.strain", "Participant": "wasAttributedTo"}


@dataclass(frozen=True)
class Problem:
    """One reason the archive refuses the asset: the asset field (dotted, without list indices) and the message."""

    field: str  # "wasAttributedTo.species", "wasGeneratedBy.name", "" for the file as a whole
    message: str
    extraction: bool  # dandi upload itself fails (True) or the archive marks the asset invalid (False)


def asset_findings(
    path: Path, name: str, reported: frozenset[str] = frozenset(), nwbfile: Any = None, walk: FileWalk | None = None
) -> list[Finding]:
    """Error findings for what the archive would refuse in `path` (reported as `name`); a problem at a location
    in `reported` (the DANDI layer already named it) is left out."""
    if path.is_dir() or not path.name.lower().endswith(".nwb"):
        return []  # a Zarr store or a file dandi-cli uploads as a generic asset: no NWB metadata extracted
    findings = []
    for problem in problems(path, nwbfile, walk):
        field = _nwb_field(problem.field)
        if field.location in reported:
            continue
        findings.append(_finding(name, problem, field))
    return findings


def problems(path: Path, nwbfile: Any = None, walk: FileWalk | None = None) -> list[Problem]:
    """What dandi upload's extraction, or the archive's published-asset validation, refuses in the file."""
    try:
        metadata = extract(path, nwbfile, walk)
    except Exception as exc:
        return _extraction_problems(exc)
    return schema_problems(published(metadata, path.stat().st_size))


def extract(path: Path, nwbfile: Any = None, walk: FileWalk | None = None) -> dict[str, Any]:
    """The asset metadata `dandi upload` sends for the file: nwb2asset, as JSON, schemaKey "Asset" (given the
    file's `nwbfile` already read, dandi-cli's extraction takes it instead of reading the file a second time, and
    given its `walk`, the answers of the two walks it makes of the file when walk.py has them)."""
    from dandi.metadata.nwb import nwb2asset

    with _offline_species(), _already_read(nwbfile), _already_walked(walk):
        asset = nwb2asset(path, digest=_etag_digest())
    metadata: dict[str, Any] = asset.model_dump(mode="json", exclude_none=True)
    metadata["schemaKey"] = "Asset"  # dandi.dandiapi.set_asset_schema_key, as upload does
    return metadata


def published(metadata: dict[str, Any], size: int) -> dict[str, Any]:
    """`metadata` with the fields the archive sets on an asset and at publish time (Asset.published_metadata),
    filled with placeholders of their form."""
    asset_id = str(uuid.uuid4())
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    activity = {
        "id": uuid.uuid4().urn,
        "name": "DANDI publish",
        "startDate": now,
        "endDate": now,
        "wasAssociatedWith": [
            {
                "id": uuid.uuid4().urn,
                "identifier": "RRID:SCR_017571",
                "name": "DANDI API",
                "version": "0.1.0",
                "schemaKey": "Software",
            }
        ],
        "schemaKey": "PublishActivity",
    }
    return metadata | {
        "id": f"dandiasset:{asset_id}",
        "identifier": asset_id,
        "path": "sub-placeholder/sub-placeholder.nwb",  # the archive's own path check is --dandi-layout's
        "contentUrl": [
            f"https://api.dandiarchive.org/api/assets/{asset_id}/download/",
            "https://dandiarchive.s3.amazonaws.com/blobs/000/000/placeholder",
        ],
        "contentSize": size,
        "digest": {"dandi:dandi-etag": _ETAG, "dandi:sha2-256": "0" * 64},
        "publishedBy": activity,
        "datePublished": now,
        "schemaKey": "Asset",
    }


def schema_problems(metadata: dict[str, Any]) -> list[Problem]:
    """The archive's validation of published asset metadata: the JSON Schema first, then the pydantic model."""
    from dandischema.exceptions import JsonschemaValidationError, PydanticValidationError
    from dandischema.metadata import validate

    try:
        validate(metadata, schema_key=PUBLISHED, json_validation=True)
    except JsonschemaValidationError as exc:
        return [Problem(_json_field(e), e.message, False) for e in exc.errors]
    except PydanticValidationError as exc:
        return [Problem(_dotted(e.get("loc", ())), str(e.get("msg", "")), False) for e in exc.errors]
    except ValueError as exc:  # dandischema's own refusal, e.g. a schema version it does not allow
        return [Problem("", str(exc), False)]
    return []


def warm_up() -> None:
    """Import the extraction and build the published-asset JSON Schema validator once (before workers fork).

    dandischema caches the validator `validate` uses in `_get_jsonschema_validator_local`; it is built through that
    function directly. Validating a placeholder instead (the fallback, should dandischema rename it) costs more than
    building: jsonschema renders each of its errors, schema and instance pretty-printed, to sort them (about 0.3 s).
    """
    import dandi.metadata.nwb  # noqa: F401
    from dandischema import metadata
    from dandischema.consts import DANDI_SCHEMA_VERSION

    build = getattr(metadata, "_get_jsonschema_validator_local", None)
    if callable(build):
        build(PUBLISHED)
    else:  # the metadata names the schema version the extraction writes, or dandischema refuses it unbuilt
        schema_problems({"schemaKey": "Asset", "schemaVersion": DANDI_SCHEMA_VERSION})


_ETAG = "0" * 32 + "-1"


def _etag_digest() -> Any:
    from dandi.misctypes import Digest
    from dandischema.models import DigestType

    return Digest(algorithm=DigestType.dandi_etag, value=_ETAG)


@contextmanager
def _offline_species() -> Iterator[None]:
    """dandi-cli looks a taxonomy URL missing from its table up online, only for its label: here it gets none,
    which is what dandi-cli records when that lookup finds nothing."""
    import dandi.metadata.util as util

    original = util.parse_purlobourl
    util.parse_purlobourl = lambda url, lookup=None: None
    try:
        yield
    finally:
        util.parse_purlobourl = original


@contextmanager
def _already_read(nwbfile: Any) -> Iterator[None]:
    """dandi-cli's `_get_pynwb_metadata` reads the file with `NWBHDF5IO(file=h5, load_namespaces=True).read()`; given
    the NWBFile that read gives (validate/opened.py builds it with the same type map), it is handed that object.
    Without one, or with a dandi-cli that reads the file otherwise, nothing changes."""
    import dandi.pynwb_utils as utils

    original = getattr(utils, "NWBHDF5IO", None)
    if nwbfile is None or original is None:
        yield
        return

    class Read:
        def __init__(self, file: Any = None, load_namespaces: bool = True) -> None:
            del file, load_namespaces  # the file is already read

        def __enter__(self) -> Read:
            return self

        def __exit__(self, *_: object) -> None:
            return None

        def read(self) -> Any:
            return nwbfile

    utils.NWBHDF5IO = Read
    try:
        yield
    finally:
        utils.NWBHDF5IO = original


@contextmanager
def _already_walked(walk: FileWalk | None) -> Iterator[None]:
    """dandi-cli's `get_metadata` walks the file twice, for `nwb_has_external_links` and `get_neurodata_types`, and
    opens it once more for `get_nwb_version`; given a walk that has their answers (walk.py gives the first two only
    when they are plain: no external, dangling or looping link), it is handed those. Otherwise, or with a dandi-cli
    that names them otherwise, nothing changes."""
    import dandi.metadata.nwb as extraction

    answers: dict[str, Any] = {}
    if walk is not None and walk.dandi_types is not None:
        types = list(walk.dandi_types)
        answers |= {"nwb_has_external_links": lambda _: False, "get_neurodata_types": lambda _: list(types)}
    if walk is not None and walk.nwb_version is not None:
        version = walk.nwb_version
        answers["get_nwb_version"] = lambda _: version
    originals = {name: getattr(extraction, name) for name in answers if hasattr(extraction, name)}
    if len(originals) < len(answers):
        yield
        return
    for name, answer in answers.items():
        setattr(extraction, name, answer)
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(extraction, name, original)


def _extraction_problems(exc: Exception) -> list[Problem]:
    """The reasons extraction failed: a dandischema model that refused a value, or dandi-cli's own message,
    attributed to the asset field of the dandi-cli extractor that raised it."""
    field = _raising_extractor(exc)
    errors = getattr(exc, "errors", None)
    title = getattr(exc, "title", "")
    if callable(errors) and title:  # pydantic: a submodel (Session, StrainType, ...) refused a value
        base = _SUBMODELS.get(title, field)
        found = []
        for error in errors():
            loc = _dotted(error.get("loc", ()))
            found.append(Problem(f"{base}.{loc}" if base and loc else base or loc, str(error.get("msg")), True))
        return found
    message = str(exc).split(". ")[0].rstrip(".") or type(exc).__name__
    return [Problem(field, message, True)]


def _raising_extractor(exc: Exception) -> str:
    names = [frame.name for frame in traceback.extract_tb(exc.__traceback__)]
    for name in reversed(names):
        if name in _EXTRACTORS:
            return _EXTRACTORS[name]
    return ""


def _json_field(error: Any) -> str:
    """A jsonschema error's field; a missing required property is that property's field."""
    field = _dotted(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            return f"{field}.{missing[0]}" if field else missing[0]
    return field


def _dotted(loc: Any) -> str:
    """('wasAttributedTo', 0, 'species', 'name') -> 'wasAttributedTo.species.name' (list indices dropped)."""
    return ".".join(str(part) for part in loc if not isinstance(part, int))


def _nwb_field(field: str) -> NwbField:
    """The NWB field an asset field comes from: the longest known prefix of its dotted path."""
    parts = field.split(".")
    for end in range(len(parts), 0, -1):
        known = _FIELDS.get(".".join(parts[:end]))
        if known is not None:
            return known
    return NwbField("", "/")


def _finding(name: str, problem: Problem, field: NwbField) -> Finding:
    what = f"{problem.field}: " if problem.field else ""
    if problem.extraction:
        message = f"dandi upload cannot extract this file's asset metadata, so it refuses the file ({what}"
    else:
        message = f"The DANDI archive would mark this file's asset metadata invalid ({what}"
    message += f"{problem.message.rstrip('.')})."
    if field.key:
        message += f" It comes from {field.key}."
        hint = f" as {field.hint}" if field.hint else ""
        fix = f"Set {field.key}{hint} (e.g. --set {field.key}=... when converting) and convert again."
    elif problem.field.split(".")[0] in ARCHIVE_FIELDS:
        fix = "This field is the archive's own; report it with the file, the check's placeholder is wrong."
    elif problem.extraction:
        fix = "Fix what dandi-cli's message names (e.g. external links: copy the linked data into the file)."
    else:
        fix = "Fix the value in the file (the message names the asset field), or report it if it is not the file's."
    return Finding.error(name, CHECK, ValidationLayer.DANDI, message, fix, field.location)


def modality_findings(content: Path, named: Path, layout: bool, walk: FileWalk | None = None) -> list[Finding]:
    """The modality organize names the file with (info), and with `layout` an error when `named` says another."""
    from nwbconvert.dandi_naming import LEFT_OUT, file_types, modality, modality_table
    from nwbconvert.validate.dandi_ready import LAYOUT

    types = set(walk.group_types) if walk is not None else file_types(content)
    found = modality(types)
    table = modality_table()
    naming = sorted(t for t in types if table.get(t) not in (None, *LEFT_OUT))
    said = f"'{found}' (from {', '.join(naming)})" if found else "as none: no neurodata type of the file names one"
    findings = [
        Finding(
            str(named),
            Severity.INFO,
            "dandi.modality",
            ValidationLayer.DANDI,
            "/",
            f"dandi organize names this file's modality {said}.",
            "Nothing to do: nwbconvert batch names files so, and --dandi-layout checks the name against it.",
        )
    ]
    match = LAYOUT.match(named.name) if layout else None
    if match is not None and (match["mod"] or "") != found:
        stem = named.name.split(".")[0]
        key = stem.rsplit("_", 1)[0] if match["mod"] else stem
        right = f"{key}_{found}" if found else key
        findings.append(
            Finding.error(
                str(named),
                "dandi.layout_modality",
                ValidationLayer.DANDI,
                f"The name says modality '{match['mod'] or ''}' but dandi organize names this file's modality {said}.",
                f"Rename it {right}{named.name[len(stem) :]}.",
            )
        )
    return findings


def archive_findings(
    content: Path, named: Path, dandi: list[Finding], layout: bool, nwbfile: Any = None, walk: FileWalk | None = None
) -> list[Finding]:
    """This layer's findings for the file at `content` (reported as `named`), after the DANDI layer's `dandi`;
    `nwbfile`: the file as `NWBHDF5IO(load_namespaces=True)` reads it, when another check has read it already;
    `walk`: the file's structure walked once (walk.py), when another check has walked it."""
    reported = frozenset(f.location for f in dandi if f.severity is Severity.ERROR)
    found = asset_findings(content, str(named), reported, nwbfile, walk)
    return found + modality_findings(content, named, layout, walk)
