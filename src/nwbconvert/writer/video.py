"""Behavior videos -> ImageSeries in acquisition: external files (default) or decoded frames inside the file.

External (`--video external`): `external_file` lists the video's files relative to the folder of the NWB file's
final path (`BehaviorPlan.output`; the hidden partial is written beside it, so the paths hold for both),
`starting_frame` the first frame of each, `num_samples` the frames of all. With `--dandi-layout` (and in `batch`)
each file is first placed where `dandi organize` would put it (`batch.layout.video_path`: a folder named after the
NWB file, `<ImageSeries object_id>_external_file_<n><ext>`), hard-linked when on the same file system, else
copied, under a hidden name then renamed: never half-written. The series' object id is derived from the output
path and the series name, so converting again to the same path replaces those videos rather than leaving stale
copies beside them.

Internal (`--video internal`): the decoded frames, (frames, x, y, 3) uint8 RGB, chunked in whole frames and
compressed through the backend's movie path (writer/frames.py), decoded chunk by chunk: memory stays bounded.

Times: the video's rate and start when its frames are regular (NWB Inspector's check_regular_timestamps asks for
it), else one time stamp per frame. Dimension is [width, height]; the device is the camera.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nwbconvert.behavior import Video
from nwbconvert.errors import OutputError
from nwbconvert.plan_behavior import BehaviorPlan, VideoStorage

if TYPE_CHECKING:
    from nwbconvert.writer.nwbfile import DataWrapping

_ID_NAMESPACE = uuid.UUID("5b0e7c1e-3f7a-4a8e-9d43-6f1d0c2a9b71")  # nwbconvert's, for uuid5 object ids


def add_videos(nwbfile: Any, plan: BehaviorPlan, cameras: dict[str, Any], wrap: DataWrapping) -> dict[str, Any]:
    """One ImageSeries per video, in acquisition; the series by video name (pose links its source_video)."""
    written: dict[str, Any] = {}
    for video in plan.videos:
        if plan.video_storage is VideoStorage.INTERNAL:
            series = _internal(video, cameras.get(video.camera), wrap)
        else:
            series = _external(video, plan, cameras.get(video.camera))
        nwbfile.add_acquisition(series)
        written[video.name] = series
    return written


def _timing(video: Video) -> dict[str, Any]:
    times = video.times
    if times.timestamps_s is not None:
        return {"timestamps": times.timestamps_s}
    return {"rate": float(times.rate_hz or 0.0), "starting_time": float(times.t_start_s)}


def _description(video: Video) -> str:
    return video.description or f"Behavior video of camera {video.camera}."


def _external(video: Video, plan: BehaviorPlan, device: Any) -> Any:
    from pynwb.image import ImageSeries

    output = Path(plan.output) if plan.output else None
    object_id = str(uuid.uuid5(_ID_NAMESPACE, f"{output.absolute() if output else ''}:{video.name}"))
    files = [Path(f) for f in video.files]
    if plan.dandi_layout and output is not None:
        files = [_placed(f, output, object_id, n) for n, f in enumerate(files)]
    series = ImageSeries.__new__(ImageSeries, object_id=object_id)  # hdmf takes an object id only here
    series.__init__(
        name=video.name,
        description=_description(video),
        unit="n.a.",
        external_file=[external_path(f, output) for f in files],
        starting_frame=list(video.starting_frames),
        num_samples=video.n_frames,
        format="external",
        dimension=list(video.frame_size),
        device=device,
        **_timing(video),
    )
    return series


def external_path(file: Path, output: Path | None) -> str:
    """`file` relative to the folder of `output`, with '/' separators (NWB's and DANDI's); absolute when there is no
    output path or no relative path (another drive)."""
    if output is None:
        return file.absolute().as_posix()
    try:
        return Path(os.path.relpath(file.absolute(), output.absolute().parent)).as_posix()
    except ValueError:
        return file.absolute().as_posix()


def _placed(source: Path, output: Path, object_id: str, index: int) -> Path:
    """The video file placed where DANDI expects it (hard link, else copy; renamed into place when complete)."""
    from nwbconvert.batch.layout import video_path
    from nwbconvert.durable import fsync_dir, fsync_file

    dest = video_path(output.absolute(), object_id, index, source.suffix)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists() and os.path.samefile(dest, source):
            return dest
        tmp = dest.parent / f".{dest.name}.{os.getpid()}.nwbconvert-partial"
        tmp.unlink(missing_ok=True)
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
            fsync_file(tmp)
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    except OSError as exc:
        raise OutputError(
            f"{source}: the video could not be placed at {dest} beside the NWB file ({exc.strerror or exc}). Check "
            "that the output folder is writable and has room for the video, or convert without --dandi-layout."
        ) from exc
    return dest


def _internal(video: Video, device: Any, wrap: DataWrapping) -> Any:
    from pynwb.image import ImageSeries

    from nwbconvert.imaging import Movie
    from nwbconvert.plan_imaging import MoviePlan

    if video.frames is None:
        raise OutputError(f"{video.name}: its reader gives no decoded frames; convert it with --video external.")
    movie = Movie(video.name, "", "", video.frames, video.times, _description(video))
    width, height = video.frame_size
    entry = MoviePlan(
        name=video.name,
        series_type="ImageSeries",
        plane="",
        channel="",
        n_frames=video.n_frames,
        frame_shape=(width, height, 3),
        dtype="uint8",
        rate_hz=video.times.rate_hz if video.times.timestamps_s is None else None,
        t_start_s=video.times.t_start_s,
        raw_bytes=movie.nbytes,
        movie=movie,
    )
    return ImageSeries(
        name=video.name,
        description=_description(video) + " Frames decoded to RGB, stored as (frame, x, y, rgb).",
        data=wrap.movie(entry),
        unit="n.a.",
        format="raw",
        dimension=[width, height],
        device=device,
        **_timing(video),
    )
