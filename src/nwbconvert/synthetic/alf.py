"""An IBL session folder in ONE's layout and ALF naming (`one.alf.spec`): `<lab>/Subjects/<subject>/<date>/<number>/`
with `alf/` objects (trials, wheel, wheelMoves, licks, camera times and pose tables, per-probe spikes, clusters and
channels), `raw_behavior_data/_iblrig_taskSettings.raw.json` and optionally the raw videos' folder.

File names are built with `one.alf.spec.to_alf`, so `one.alf.io.load_object` reads every object back as written
(tests use it as the oracle)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BODYPARTS = ("nose_tip", "paw_l", "paw_r", "tongue_end_l")
ACRONYMS = ("VISp", "CA1", "DG", "LP", "PO")  # CCF 2017 areas the channels go through, top to bottom
AREA_IDS = (385, 382, 632, 218, 1020)  # their Allen structure ids


@dataclass(frozen=True)
class AlfSession:
    session: Path  # <root>/<lab>/Subjects/<subject>/<date>/<number>
    n_trials: int
    cameras: dict[str, int]  # "left" -> frames
    probes: dict[str, str]  # "probe00" -> its spike collection inside alf/ ("probe00/pykilosort")
    n_clusters: int
    session_datetime: str | None  # SESSION_DATETIME of the task settings, when written


def _name(
    obj: str, attribute: str, extension: str = "npy", namespace: str | None = None, timescale: str | None = None
) -> str:
    from one.alf.spec import to_alf

    return str(to_alf(obj, attribute, extension, namespace=namespace, timescale=timescale))


def _save(
    folder: Path, obj: str, attribute: str, data: np.ndarray, namespace: str | None = None, timescale: str | None = None
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / _name(obj, attribute, "npy", namespace, timescale), data)


def write_alf_session(
    root: Path,
    n_trials: int = 40,
    n_clusters: int = 12,
    fps: float = 60.0,
    session_datetime: str | None = "2023-04-05T10:11:12.345678",
    trials_table: bool = True,
    videos: tuple[str, ...] = (),
    tasks: tuple[str, ...] = (),
    seed: int = 0,
) -> AlfSession:
    """Write a whole session under `root` (lab `cortexlab`, subject `KS023`, 2023-04-05, number 001); `videos` names
    the cameras ("left", ...) whose raw video is written too (raw_video_data/, small H.264 frames); with `tasks`
    ("task_00", ...) each task's trials, wheel and wheelMoves go to its own collection (as iblrig 8 writes them),
    one task after the other."""
    rng = np.random.default_rng(seed)
    session = root / "cortexlab" / "Subjects" / "KS023" / "2023-04-05" / "001"
    alf = session / "alf"
    duration = 0.0
    for task in tasks or ("",):
        start = duration
        duration = _trials(alf / task, n_trials, rng, trials_table, start)
        _wheel(alf / task, start, duration, rng)
    _save(alf, "licks", "times", np.sort(rng.uniform(1.0, duration, 150)))
    cameras = {"left": int(duration * fps), "right": int(duration * fps * 2), "body": int(duration * fps / 2)}
    for camera, n in cameras.items():
        rate = fps * n / cameras["left"]
        _save(alf, f"{camera}Camera", "times", 0.5 + np.arange(n) / rate + rng.normal(0, 1e-4, n), "ibl")
    _pose(alf, "leftCamera", "dlc", cameras["left"], rng)
    _pose(alf, "rightCamera", "lightningPose", cameras["right"], rng)
    np.save(alf / "leftCamera.ROIMotionEnergy.npy", rng.random(cameras["left"]))  # found, not used
    for camera in videos:
        write_video(session / "raw_video_data" / f"_iblrig_{camera}Camera.raw.mp4", cameras[camera], fps)
    probes = {"probe00": "probe00/pykilosort", "probe01": "probe01"}
    for i, collection in enumerate(probes.values()):
        _probe(alf / collection, n_clusters, duration, rng, with_acronyms=i == 0)
    if session_datetime is not None:
        settings = {"SESSION_DATETIME": session_datetime, "PYBPOD_PROTOCOL": "_iblrig_tasks_ephysChoiceWorld"}
        raw = session / "raw_behavior_data"
        raw.mkdir(parents=True)
        (raw / "_iblrig_taskSettings.raw.json").write_text(json.dumps(settings))
    return AlfSession(session, n_trials, cameras, probes, n_clusters, session_datetime)


def write_video(path: Path, n_frames: int, fps: float, size: tuple[int, int] = (64, 48)) -> None:
    """An H.264 MP4 of `n_frames` grey frames (width × height `size`), as a camera's raw video."""
    from fractions import Fraction

    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(n_frames):
            image = np.full((size[1], size[0], 3), i % 256, dtype="uint8")
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _trials(alf: Path, n: int, rng: np.random.Generator, table: bool, t0: float = 0.0) -> float:
    """Trials of a choice world task; a table.pqt (as IBL's extractors write) or one .npy per attribute."""
    import pandas as pd

    starts = t0 + 2.0 + np.cumsum(rng.uniform(3.0, 6.0, n))
    stops = starts + rng.uniform(1.5, 2.8, n)
    contrast = rng.choice([1.0, 0.25, 0.125, 0.0625, 0.0], n)
    left = rng.random(n) < 0.5
    columns = {
        "intervals_0": starts,
        "intervals_1": stops,
        "goCue_times": starts + 0.6,
        "stimOn_times": starts + 0.6 + rng.uniform(0, 1e-3, n),
        "response_times": starts + rng.uniform(0.8, 1.4, n),
        "choice": rng.choice([-1, 0, 1], n).astype("int64"),
        "feedbackType": rng.choice([-1, 1], n).astype("int64"),
        "contrastLeft": np.where(left, contrast, np.nan),
        "contrastRight": np.where(left, np.nan, contrast),
        "probabilityLeft": np.repeat([0.5, 0.8, 0.2, 0.8], -(-n // 4))[:n],
        "rewardVolume": rng.choice([0.0, 1.5], n),
        "firstMovement_times": starts + rng.uniform(0.7, 1.0, n),
    }
    if table:
        alf.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(columns).to_parquet(alf / _name("trials", "table", "pqt", "ibl"))
        _save(alf, "trials", "quiescencePeriod", rng.uniform(0.4, 0.7, n), "ibl")  # an extra attribute beside it
    else:
        _save(alf, "trials", "intervals", np.c_[starts, stops], "ibl")
        for key, values in columns.items():
            if not key.startswith("intervals"):
                _save(alf, "trials", key, values, "ibl")
    _save(alf, "trials", "intervals", np.c_[starts, stops] - 1.234, "ibl", "bpod")  # Bpod's clock: not used
    return float(stops[-1] + 2.0)


def _wheel(alf: Path, t0: float, duration: float, rng: np.random.Generator) -> None:
    """The wheel at ~1 kHz (irregular, as the rotary encoder's edges), and the movements found in it."""
    times = np.sort(rng.uniform(t0, duration, int((duration - t0) * 1000)))
    _save(alf, "wheel", "position", np.cumsum(rng.normal(0, 0.002, len(times))), "ibl")
    _save(alf, "wheel", "timestamps", times, "ibl")
    starts = np.sort(rng.uniform(t0, duration - 1.0, 25))
    _save(alf, "wheelMoves", "intervals", np.c_[starts, starts + rng.uniform(0.05, 0.8, 25)], "ibl")
    _save(alf, "wheelMoves", "peakAmplitude", rng.normal(0, 0.3, 25), "ibl")
    _save(alf, "wheelMoves", "peakVelocity_times", starts + 0.02, "ibl")


def _pose(alf: Path, camera: str, tool: str, n: int, rng: np.random.Generator) -> None:
    """A pose table: `<bodypart>_x`, `_y`, `_likelihood` per frame (pixels; NaN where the tool lost the part)."""
    import pandas as pd

    columns: dict[str, np.ndarray] = {}
    for part in BODYPARTS:
        x, y = rng.uniform(0, 640, n), rng.uniform(0, 512, n)
        lost = rng.random(n) < 0.05
        columns[f"{part}_x"] = np.where(lost, np.nan, x)
        columns[f"{part}_y"] = np.where(lost, np.nan, y)
        columns[f"{part}_likelihood"] = rng.random(n)
    pd.DataFrame(columns).to_parquet(alf / _name(camera, tool, "pqt", "ibl"))


def _probe(folder: Path, n_clusters: int, duration: float, rng: np.random.Generator, with_acronyms: bool) -> None:
    """spikes / clusters / channels of one probe's sorting (384 channels of a Neuropixels 1.0 probe)."""
    import pandas as pd

    n_channels = 384
    n_spikes = 4000
    times = np.sort(rng.uniform(0.0, duration, n_spikes))
    clusters = rng.integers(0, n_clusters - 1, n_spikes)  # the last cluster holds no spike (IBL keeps those)
    _save(folder, "spikes", "times", times)
    _save(folder, "spikes", "clusters", clusters.astype("uint32"))
    _save(folder, "spikes", "amps", rng.uniform(50e-6, 300e-6, n_spikes))
    _save(folder, "spikes", "depths", rng.uniform(0, 3840, n_spikes))
    channels = rng.integers(0, n_channels, n_clusters)
    _save(folder, "clusters", "channels", channels.astype("int64"))
    _save(folder, "clusters", "depths", (channels // 2 * 20).astype("float64"))
    _save(folder, "clusters", "amps", rng.uniform(50e-6, 300e-6, n_clusters))
    _save(folder, "clusters", "peakToTrough", rng.uniform(0.2, 1.2, n_clusters))
    _save(folder, "clusters", "waveforms", rng.normal(0, 1e-5, (n_clusters, 82, 32)))  # not used
    metrics = {
        "cluster_id": np.arange(n_clusters),
        "firing_rate": rng.uniform(0.5, 30, n_clusters),
        "label": rng.choice([0.0, 1 / 3, 2 / 3, 1.0], n_clusters),
        "ks2_label": rng.choice(["good", "mua"], n_clusters),
    }
    pd.DataFrame(metrics).to_parquet(folder / _name("clusters", "metrics", "pqt"))
    x = np.tile([43.0, 11.0, 59.0, 27.0], n_channels // 4)
    y = (np.arange(n_channels) // 2 * 20).astype("float64")
    _save(folder, "channels", "localCoordinates", np.c_[x, y])
    _save(folder, "channels", "rawInd", np.arange(n_channels))
    areas = np.minimum(np.arange(n_channels) * len(ACRONYMS) // n_channels, len(ACRONYMS) - 1)
    np.save(folder / "channels.brainLocationIds_ccf_2017.npy", np.asarray(AREA_IDS)[areas])  # IBL's own name
    _save(folder, "channels", "mlapdv", rng.normal(0, 1000, (n_channels, 3)))
    if with_acronyms:
        _save(folder, "channels", "acronym", np.asarray(ACRONYMS)[areas])


def channel_acronyms(n_channels: int = 384) -> list[str]:
    """The acronym the generator gives each channel (top of the list first)."""
    areas = np.minimum(np.arange(n_channels) * len(ACRONYMS) // n_channels, len(ACRONYMS) - 1)
    return [ACRONYMS[a] for a in areas]
