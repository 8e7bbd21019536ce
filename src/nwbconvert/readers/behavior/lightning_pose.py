"""Lightning Pose output: video predictions (`<video>.csv`, DeepLabCut's header rows, the scorer its model type:
`heatmap_tracker`, `heatmap_mhcrnn_tracker`, ...; x, y, likelihood) and labeled frames (`CollectedData.csv`: one
image path column, x, y, no likelihood).

Told from DeepLabCut's files by content: a prediction CSV is Lightning Pose's when its scorer is one of Lightning
Pose's model names (`heatmap...`, `..._tracker`), every other prediction CSV is DeepLabCut's; a label CSV with a
single image column not named `CollectedData_<labeler>.csv` is Lightning Pose's (DeepLabCut names its label files
after the labeler and, since 2.2, writes three index columns).

Predictions are timed by their video (`<video>.<ext>` beside the CSV, in `videos/` beside it or in the project's
`videos/` above a `video_preds/` folder). Labels become `PoseTraining`; the project's videos (`videos/` beside
CollectedData.csv) are part of the session, and a labeled frame links to one when its image path names it
(`labeled-data/<video>/img0123.png`).
"""

from __future__ import annotations

from pathlib import Path

from nwbconvert.errors import SourceError
from nwbconvert.model import Session
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions
from nwbconvert.readers.behavior.deeplabcut import Tool, is_lp_scorer, labels_source, prediction_source
from nwbconvert.readers.behavior.pose_common import PANDAS, VIDEO_SUFFIXES, PoseSource, csv_columns, open_video


def lp_match(path: Path) -> Match:
    """CONTENT for Lightning Pose's prediction and label CSVs (module docstring), NO otherwise."""
    columns = csv_columns(path)
    if columns is None:
        return Match.NO
    if columns.labels:
        single = columns.n_index == 1 and not path.name.startswith("CollectedData_")
        return Match.CONTENT if single else Match.NO
    return Match.CONTENT if is_lp_scorer(columns.scorer) else Match.NO


def _project_videos(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
    except OSError:
        return []


class LightningPoseReader(ReaderBase):
    name = "lightning-pose"
    description = "Lightning Pose predictions (.csv) and labeled frames (CollectedData.csv)"
    suffixes = (".csv",)
    requires = (PANDAS,)
    verified = "real"  # tests/test_pose_readers.py: the real mirror-mouse CollectedData.csv; predictions generated
    manufacturer = "Lightning Pose (Paninski lab)"
    note = "predictions: the video of the same stem times them; else --set pose.rate"
    unreadable_advice = "Check that it is a complete Lightning Pose CSV (it may be truncated)."

    def probe(self, path: Path) -> Match:
        try:
            return lp_match(path) if path.is_file() else Match.NO
        except Exception:
            return Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        tool = Tool(self.name, "Lightning Pose")
        with self.reading(path):
            columns = csv_columns(path)
            if columns is None:
                raise SourceError(f"{path}: its header rows are not Lightning Pose's (scorer, bodyparts, coords).")
            folder = path.parent
            if not columns.labels:
                folders = [folder, folder / "videos", folder.parent / "videos", folder.parent.parent / "videos"]
                return prediction_source(path, tool, folders).session()
            found = labels_source(path, tool, [folder / "videos", folder], "")
            return _with_project_videos(found, folder / "videos").session()


def _with_project_videos(found: PoseSource, folder: Path) -> PoseSource:
    """The project's videos (`videos/` beside CollectedData.csv) added to what the labels link to."""
    from dataclasses import replace

    from nwbconvert.readers.behavior.pose_common import camera_name

    known = {Path(f).resolve() for v in found.videos for f in v.files}
    extra = tuple(open_video(p, camera_name(p.stem)) for p in _project_videos(folder) if p.resolve() not in known)
    return replace(found, videos=found.videos + extra, files=found.files + tuple(_project_videos(folder)))
