"""A UCLA Miniscope V4 recording as Miniscope-DAQ-QT-Software writes it: a session folder with its metaData.json
(recording start, the devices) and one device folder holding metaData.json (device settings), numbered FFV1 .avi
files of `framesPerFile` grayscale frames each (0.avi, 1.avi, …) and timeStamps.csv (one row per frame, in ms)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DEVICE = "My_V4_Miniscope"
FRAME_RATE = 30.0  # the device's "30FPS" setting; the time stamps jitter around its period


def miniscope_frames(n_frames: int = 12, width: int = 40, height: int = 24) -> np.ndarray:
    """The frames the sample holds: (frames, height, width) uint8, a moving blob over noise."""
    rng = np.random.default_rng(18)
    y, x = np.mgrid[0:height, 0:width]
    frames = rng.integers(10, 40, (n_frames, height, width)).astype(np.float64)
    for i in range(n_frames):
        frames[i] += 180 * np.exp(-((x - 5 - 2 * i) ** 2 + (y - height / 2) ** 2) / 18.0)
    return np.clip(frames, 0, 255).astype(np.uint8)


def write_miniscope(
    session: Path, n_frames: int = 12, frames_per_file: int = 5, width: int = 40, height: int = 24, stamps: bool = True
) -> Path:
    """The session folder; the device folder is `session / DEVICE`. Needs OpenCV (cv2), as roiextractors does."""
    import cv2

    device = session / DEVICE
    device.mkdir(parents=True, exist_ok=True)
    (session / "metaData.json").write_text(json.dumps(_session_meta(frames_per_file), indent=4))
    (device / "metaData.json").write_text(json.dumps(_device_meta(frames_per_file, width, height), indent=4))
    frames = miniscope_frames(n_frames, width, height)
    for index, start in enumerate(range(0, n_frames, frames_per_file)):
        writer = cv2.VideoWriter(
            str(device / f"{index}.avi"), cv2.VideoWriter.fourcc(*"FFV1"), FRAME_RATE, (width, height), False
        )
        for frame in frames[start : start + frames_per_file]:
            writer.write(frame)
        writer.release()
    if stamps:
        rng = np.random.default_rng(3)
        times_ms = np.round(np.arange(n_frames) * 1000.0 / FRAME_RATE + rng.uniform(-2, 2, n_frames)).astype(int)
        times_ms[0] = 0
        rows = "".join(f"{i},{t},{i % 4}\n" for i, t in enumerate(times_ms))
        (device / "timeStamps.csv").write_text("Frame Number,Time Stamp (ms),Buffer Index\n" + rows)
    return session


def _session_meta(frames_per_file: int) -> dict[str, object]:
    return {
        "animalName": "m1",
        "baseDirectory": "C:/data/researcher/experiment/m1/2024_03_05/11_22_33",
        "cameras": [],
        "experimentName": "experiment",
        "framesPerFile": frames_per_file,
        "miniscopes": [DEVICE],
        "recordingStartTime": {
            "day": 5,
            "hour": 11,
            "minute": 22,
            "month": 3,
            "msec": 250,
            "msecSinceEpoch": 1709637753250,
            "second": 33,
            "year": 2024,
        },
        "researcherName": "researcher",
    }


def _device_meta(frames_per_file: int, width: int, height: int) -> dict[str, object]:
    return {
        "ROI": {"height": height, "leftEdge": 0, "topEdge": 0, "width": width},
        "compression": "FFV1",
        "deviceDirectory": f"C:/data/researcher/experiment/m1/2024_03_05/11_22_33/{DEVICE}",
        "deviceID": 0,
        "deviceName": DEVICE,
        "deviceType": "Miniscope_V4_BNO",
        "ewl": 50,
        "frameRate": "30FPS",
        "framesPerFile": frames_per_file,
        "gain": "Low",
        "led0": 12,
    }
