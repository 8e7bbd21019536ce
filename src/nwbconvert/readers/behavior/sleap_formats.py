"""The other pose formats sleap-io 0.9 reads, through `sleap_io.load_file`: JABS pose files (`*_pose_est_v<N>.h5`,
predictions of every mouse), SLEAP's analysis CSV (`track, frame_idx, instance.score, <node>.x, .y, .score`),
and labeled-frame exports — COCO keypoints (.json), Label Studio keypoint tasks (.json), AlphaTracker (.json) and
Ultralytics YOLO pose datasets (a folder with data.yaml and `kpt_shape`).

Each becomes what a SLEAP file becomes (`sleap.labels_source`): predicted instances one `Pose` per camera ×
track, user-labeled ones `PoseTraining`. Formats sleap-io reads that hold no pose of an animal (TrackMate spots,
GeoJSON regions), DeepLabCut files (the deeplabcut reader's), and NWB files (they are already NWB) are not claimed;
LEAP .mat files are not either (no file of that layout is tested).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nwbconvert.errors import SourceError
from nwbconvert.model import Session
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions, head
from nwbconvert.readers.behavior.pose_common import BEHAVIOR
from nwbconvert.readers.behavior.sleap import HDF5_MAGIC, Software, labels_source

JSON_HEAD = 1 << 20  # the keys that tell the JSON exports apart are near their start


def _is_jabs(path: Path) -> bool:
    if path.suffix.lower() != ".h5" or head(path, 8) != HDF5_MAGIC:
        return False
    try:
        import h5py

        with h5py.File(path, "r") as f:
            return "poseest" in f and "points" in f["poseest"] and "confidence" in f["poseest"]
    except Exception:
        return False


def _json_head(path: Path) -> str:
    if path.suffix.lower() != ".json":
        return ""
    return "".join(head(path, JSON_HEAD).decode("utf-8", "replace").split())  # whitespace removed


def _is_coco(path: Path) -> bool:
    text = _json_head(path)
    return text.startswith("{") and all(f'"{key}":' in text for key in ("images", "annotations", "keypoints"))


def _is_labelstudio(path: Path) -> bool:
    text = _json_head(path)
    return text.startswith("[") and '"keypointlabels"' in text


def _is_alphatracker(path: Path) -> bool:
    text = _json_head(path)
    return text.startswith("[") and '"class":"image"' in text and '"class":"point"' in text


def _yolo_yaml(path: Path) -> Path | None:
    candidate = path / "data.yaml" if path.is_dir() else path
    if candidate.name != "data.yaml" or not candidate.is_file():
        return None
    return candidate if b"kpt_shape" in head(candidate, 1 << 16) else None


def _is_sleap_csv(path: Path) -> bool:
    if path.suffix.lower() != ".csv":
        return False
    first = head(path, 1 << 16).decode("utf-8", "replace").splitlines()[:1]
    cells = first[0].split(",") if first else []
    return "frame_idx" in cells and "instance.score" in cells and any(c.endswith(".x") for c in cells)


@dataclass(frozen=True)
class Format:
    key: str  # sleap-io's format name (load_file's `format`)
    software: str
    matches: Callable[[Path], bool]


FORMATS = (
    Format("jabs", "JABS", _is_jabs),
    Format("coco", "COCO keypoints", _is_coco),
    Format("labelstudio", "Label Studio", _is_labelstudio),
    Format("alphatracker", "AlphaTracker", _is_alphatracker),
    Format("ultralytics", "Ultralytics YOLO", lambda p: _yolo_yaml(p) is not None),
    Format("csv", "SLEAP", _is_sleap_csv),
)


def format_of(path: Path) -> Format | None:
    """The format of `path` among FORMATS, by content (never raises)."""
    for found in FORMATS:
        try:
            if found.matches(path):
                return found
        except Exception:
            continue
    return None


class SleapIoReader(ReaderBase):
    name = "pose-sleap-io"
    description = (
        "pose formats sleap-io reads: JABS .h5, SLEAP CSV, COCO / Label Studio / AlphaTracker .json, Ultralytics"
    )
    suffixes = (".h5", ".csv", ".json", ".yaml")
    requires = (BEHAVIOR,)
    verified = "generated"  # tests/test_pose_readers.py: files written by sleap-io (AlphaTracker: its layout)
    input_kind = "file or folder"
    manufacturer = "sleap-io (Talmo lab)"
    note = "JABS: the .avi of the same name times it; else --set pose.rate"
    unreadable_advice = "Check that it is a complete file of that format (it may be truncated)."

    def probe(self, path: Path) -> Match:
        return Match.CONTENT if format_of(path) is not None else Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        import sleap_io

        found = format_of(path)
        if found is None:
            raise SourceError(f"{path}: not a file of a pose format sleap-io reads (JABS, SLEAP CSV, COCO, ...).")
        with self.reading(path):
            target = path.parent if found.key == "ultralytics" and not path.is_dir() else path
            if found.key == "csv":
                labels = sleap_io.load_csv(str(target), format="sleap")
            else:
                labels = sleap_io.load_file(str(target), format=found.key)
            if not labels.labeled_frames:
                raise SourceError(f"{path}: holds no labeled or predicted frames: there is no pose to convert.")
            return labels_source(labels, path, Software(self.name, found.software)).session()
