"""What the pose readers (DeepLabCut, Lightning Pose, SLEAP, the formats sleap-io reads) share: stable names, the
video a pose was estimated on, tables read on demand, and the Session they become.

Names: a camera is named from the stem of the video the pose was estimated on, by the video reader's rule
(`video.camera_name`: `m3v1mp4` -> `CameraM3v1mp4`, `minimal_back` -> `CameraMinimalBack`), so a pose and its video
converted apart still name one camera; its pose is `PoseEstimation<Camera>` (+ the individual in CamelCase for
multi-animal files: `PoseEstimationCameraBackMouse1`), its skeleton `Skeleton<Camera>[<Individual>]`.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.behavior import Behavior, Pose, PoseTraining, Video
from nwbconvert.errors import SourceError
from nwbconvert.model import Session, SourceNote
from nwbconvert.provenance import describe_files
from nwbconvert.readers.base import head

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".webm")
BEHAVIOR = ("sleap_io", "behavior")  # (import name, extra) of sleap-io
PANDAS = ("pandas", "behavior")
TABLES = ("tables", "behavior")  # PyTables, for pandas.read_hdf


def camel(text: str) -> str:
    """`mouse_1` -> `Mouse1`, `m3v1mp4` -> `M3v1mp4`: runs of letters and digits, each first letter upper-cased."""
    return "".join(part[:1].upper() + part[1:] for part in re.findall(r"[A-Za-z0-9]+", text))


def camera_name(stem: str) -> str:
    """The camera of a video stem, named as the video reader names it (`video.camera_name`)."""
    from nwbconvert.readers.behavior.video import camera_name as video_camera

    return video_camera(f"{stem}.video")


def individual_name(individual: str) -> str:
    """An individual's part of a name: `mouse_1` -> `Mouse1`; a bare number is a track (`1` -> `Track1`)."""
    name = camel(individual)
    return "Track" + name if name[:1].isdigit() else name


def pose_name(camera: str, individual: str = "") -> str:
    return "PoseEstimation" + camera + individual_name(individual)


def skeleton_name(camera: str, individual: str = "") -> str:
    return "Skeleton" + camera + individual_name(individual)


def video_stem(recorded: str) -> str:
    """The stem of a video path as a tool recorded it, Windows or POSIX (`D:/a\\b\\back.mp4` -> `back`)."""
    name = re.split(r"[\\/]", recorded.strip())[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def find_video(stem: str, folders: Iterable[Path]) -> Path | None:
    """The first video file `<stem>.<video suffix>` in `folders` (in order), or None."""
    for folder in folders:
        try:
            candidates = sorted(p for p in folder.iterdir() if p.is_file() and p.stem == stem)
        except OSError:
            continue
        for path in candidates:
            if path.suffix.lower() in VIDEO_SUFFIXES:
                return path
    return None


def open_video(path: Path, camera: str) -> Video:
    """The video helper's reader of a container's frame times (no frame decoded)."""
    from nwbconvert.readers.behavior.video import open_video as open_container

    return open_container(path, camera)


@dataclass(frozen=True, eq=False)
class ColumnPose:
    """A `PoseTable` over (frames, columns) rows (an array, or a CSV's `SpilledRows`): keypoint k is the columns
    `x[k]`, `y[k]` and `confidence[k]` (-1: the tool gives no confidence, NaN)."""

    values: np.ndarray | SpilledRows
    x: tuple[int, ...]
    y: tuple[int, ...]
    confidence: tuple[int, ...]

    @property
    def n_frames(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_keypoints(self) -> int:
        return len(self.x)

    def read(self, start: int, stop: int) -> np.ndarray:
        stop = max(start, min(stop, self.n_frames))
        out = np.empty((stop - start, len(self.x), 3), dtype="float64")
        for first in range(start, stop, READ_ROWS):  # a few MiB of rows at a time, whatever the block asked
            last = min(stop, first + READ_ROWS)
            rows = np.asarray(self.values[first:last], dtype="float64")
            out[first - start : last - start] = stack_columns(rows, self.x, self.y, self.confidence)
        return out


def stack_columns(rows: np.ndarray, x: Sequence[int], y: Sequence[int], confidence: Sequence[int]) -> np.ndarray:
    """(frames, keypoints, 3) from rows of columns; a confidence column of -1 is NaN."""
    out = np.full((rows.shape[0], len(x), 3), np.nan, dtype="float64")
    out[:, :, 0] = rows[:, list(x)]
    out[:, :, 1] = rows[:, list(y)]
    known = [k for k, c in enumerate(confidence) if c >= 0]
    if known:
        out[:, known, 2] = rows[:, [confidence[k] for k in known]]
    return out


class SpilledRows:
    """float64 rows in an unnamed file of the system's temp folder (removed when this is freed), read back with
    positioned reads: only the rows asked for are in memory, never a mapping of the whole file."""

    def __init__(self, chunks: Iterable[np.ndarray], n_columns: int) -> None:
        self._file = tempfile.TemporaryFile(prefix="nwbconvert-pose-")  # noqa: SIM115 (kept open while in use)
        n = 0
        for chunk in chunks:
            block = np.ascontiguousarray(chunk, dtype="float64").reshape(-1, n_columns)
            self._file.write(block.tobytes())
            n += block.shape[0]
        self._file.flush()
        self.shape = (n, n_columns)

    def __getitem__(self, rows: slice) -> np.ndarray:
        start, stop, _ = rows.indices(self.shape[0])
        count = max(0, stop - start) * self.shape[1]
        data = os.pread(self._file.fileno(), count * 8, start * self.shape[1] * 8)
        return np.frombuffer(data, dtype="float64").reshape(-1, self.shape[1])


def frame_index(image: str, position: int) -> int:
    """The frame a labeled image shows, from the last number in its name (`img0123.png` -> 123), else its row."""
    numbers = re.findall(r"\d+", re.split(r"[\\/]", image)[-1])
    return int(numbers[-1]) if numbers else position


def labeled_video(image: str) -> str:
    """The video folder a labeled image sits in (`labeled-data/<video>/img0123.png` -> `<video>`), or ""."""
    parts = [p for p in re.split(r"[\\/]", image) if p]
    return parts[-2] if len(parts) >= 3 else ""


CSV_CHUNK_ROWS = 4_096
READ_ROWS = 16_384  # rows read at once by ColumnPose.read and H5Pose.read
HEADER_BYTES = 1 << 16


@dataclass(frozen=True)
class DlcColumns:
    """The data columns of a DeepLabCut-style table, one entry per column."""

    scorer: str
    individuals: tuple[str, ...]  # "" in single-animal files
    bodyparts: tuple[str, ...]
    coords: tuple[str, ...]  # x, y[, likelihood]
    multi_animal: bool
    n_index: int = 1  # leading index columns of a CSV (3: labeled-data / video / image)

    @property
    def labels(self) -> bool:
        """Labeled frames (x, y only) rather than predictions (x, y, likelihood)."""
        return "likelihood" not in self.coords

    def groups(self) -> list[tuple[str, tuple[str, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]]:
        """Per individual, in the file's order: (individual, bodyparts, x, y, likelihood columns; -1: none)."""
        found: dict[str, dict[str, dict[str, int]]] = {}
        for i, (who, part, coord) in enumerate(zip(self.individuals, self.bodyparts, self.coords)):
            found.setdefault(who, {}).setdefault(part, {})[coord] = i
        out = []
        for who, parts in found.items():
            names = tuple(p for p, c in parts.items() if "x" in c and "y" in c)
            out.append(
                (
                    who,
                    names,
                    tuple(parts[p]["x"] for p in names),
                    tuple(parts[p]["y"] for p in names),
                    tuple(parts[p].get("likelihood", -1) for p in names),
                )
            )
        return out


def csv_columns(path: Path) -> DlcColumns | None:
    """The columns of a DeepLabCut-style CSV from its header rows, or None (never raises)."""
    if path.suffix.lower() != ".csv":
        return None
    text = head(path, HEADER_BYTES).decode("utf-8", "replace").lstrip("\ufeff")
    rows = list(csv.reader(text.splitlines()[:4]))
    if len(rows) < 3 or not rows[0] or rows[0][0] != "scorer":
        return None
    multi = rows[1][:1] == ["individuals"]
    labels = ["scorer", "individuals", "bodyparts", "coords"] if multi else ["scorer", "bodyparts", "coords"]
    if len(rows) < len(labels) or [r[0] if r else "" for r in rows[: len(labels)]] != labels:
        return None
    header = rows[: len(labels)]
    n_index = 1
    while n_index < len(header[0]) and all(r[n_index : n_index + 1] == [""] for r in header):
        n_index += 1
    width = len(header[0])
    if width <= n_index or any(len(r) != width for r in header):
        return None
    data = [r[n_index:] for r in header]
    if not set(data[-1]) <= {"x", "y", "likelihood"} or len(set(data[0])) != 1:
        return None
    who = tuple(data[1]) if multi else ("",) * len(data[0])
    return DlcColumns(data[0][0], who, tuple(data[-2]), tuple(data[-1]), multi, n_index)


def is_dlc_h5(path: Path) -> bool:
    """A pandas HDF5 file whose column levels are named bodyparts and coords (h5py, attributes only)."""
    if path.suffix.lower() not in (".h5", ".hdf5") or head(path, 8) != b"\x89HDF\r\n\x1a\n":
        return False
    try:
        import h5py

        with h5py.File(path, "r") as f:
            for group in f.values():
                if not isinstance(group, h5py.Group) or "pandas_type" not in group.attrs:
                    continue
                info = bytes(np.asarray(group.attrs.get("info", b"")).tobytes())
                names = [group[k].attrs.get("name", b"") for k in group if k.startswith("axis0_level")]
                text = info + b" ".join(n if isinstance(n, bytes) else str(n).encode() for n in names)
                if b"bodyparts" in text and b"coords" in text:
                    return True
    except Exception:
        return False
    return False


def h5_columns(path: Path) -> tuple[str, DlcColumns, Any]:
    """(key, columns, whole frame or None) of a DeepLabCut .h5: a "table" file is read in row ranges later, a
    "fixed" one is read whole now (pandas cannot read part of it)."""
    import pandas as pd

    with pd.HDFStore(path, mode="r") as store:
        keys = store.keys()
        key = "/df_with_missing" if "/df_with_missing" in keys else keys[0]
        table = bool(store.get_storer(key).is_table)
        frame = store.select(key, start=0, stop=0) if table else store.get(key)
    columns = frame.columns
    names = list(columns.names)
    if "bodyparts" not in names or "coords" not in names:
        raise SourceError(f"{path}: the table's columns are not DeepLabCut's (scorer, bodyparts, coords).")
    level = columns.get_level_values
    multi = "individuals" in names
    who = tuple(str(v) for v in level("individuals")) if multi else ("",) * len(columns)
    scorer = str(level("scorer")[0]) if "scorer" in names else ""
    parts = tuple(str(v) for v in level("bodyparts"))
    dlc = DlcColumns(scorer, who, parts, tuple(str(v) for v in level("coords")), multi)
    return key, dlc, None if table else frame


@dataclass(frozen=True, eq=False)
class H5Pose:
    """A `PoseTable` over one individual of a PyTables-"table" .h5, read in row ranges (pandas.read_hdf)."""

    path: Path
    key: str
    rows: int
    x: tuple[int, ...]
    y: tuple[int, ...]
    confidence: tuple[int, ...]

    @property
    def n_frames(self) -> int:
        return self.rows

    @property
    def n_keypoints(self) -> int:
        return len(self.x)

    def read(self, start: int, stop: int) -> np.ndarray:
        import pandas as pd

        stop = max(start, min(stop, self.rows))
        out = np.empty((stop - start, len(self.x), 3), dtype="float64")
        with pd.HDFStore(self.path, mode="r") as store:
            for first in range(start, stop, READ_ROWS):  # a few MiB at a time, whatever the block asked
                last = min(stop, first + READ_ROWS)
                rows = store.select(self.key, start=first, stop=last).to_numpy(dtype="float64")
                out[first - start : last - start] = stack_columns(rows, self.x, self.y, self.confidence)
        return out


def h5_rows(path: Path, key: str) -> int:
    import pandas as pd

    with pd.HDFStore(path, mode="r") as store:
        return int(store.get_storer(key).nrows)


def csv_values(path: Path, columns: DlcColumns) -> SpilledRows:
    """The data columns of a prediction CSV as float64 rows, parsed in chunks into a temporary file."""
    import pandas as pd

    n = len(columns.coords)
    skip = 4 if columns.multi_animal else 3
    usecols = list(range(columns.n_index, columns.n_index + n))
    reader = pd.read_csv(path, header=None, skiprows=skip, usecols=usecols, dtype="float64", chunksize=CSV_CHUNK_ROWS)
    with reader:
        return SpilledRows((chunk.to_numpy() for chunk in reader), n)


@dataclass(frozen=True)
class PoseSource:
    """What a pose reader found in one source, before it becomes a Session."""

    reader: str
    reader_version: str
    path: Path
    poses: tuple[Pose, ...] = ()
    training: tuple[PoseTraining, ...] = ()
    videos: tuple[Video, ...] = ()
    files: tuple[Path, ...] = ()
    notes: tuple[SourceNote, ...] = ()

    def session(self) -> Session:
        videos = tuple({v.name: v for v in self.videos}.values())
        files = [self.path, *self.files, *(Path(f) for v in videos for f in v.files)]
        return Session(
            reader=self.reader,
            reader_version=self.reader_version,
            source=str(self.path),
            recordings=(),
            source_files=describe_files(p for p in files if p.is_file()),
            notes=self.notes,
            behavior=Behavior(videos=videos, poses=self.poses, training=self.training),
        )


def package_version(name: str) -> str:
    from nwbconvert.versions import installed_version

    return installed_version(name) or ""
