"""A small ScanImage 2016+ TIFF in the vendor's layout (ScanImage BigTIFF specification), written with tifffile.

The file is a little-endian BigTIFF whose 16-byte header is followed by ScanImage's header block: magic
0x07030301, version 3, the byte sizes of the non-varying frame data and of the ROI group JSON, then both texts
(NUL-terminated). Every page carries the non-varying frame data in its Software tag, the ROI JSON in its Artist
tag and its own varying frame data (`frameNumbers = …`, `frameTimestamps_sec = …`, `epoch = …`) in its
ImageDescription. Pages are in ScanImage's CZT order: channels, then slices, then volumes.
"""

from __future__ import annotations

import json
import logging
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = 0x07030301


@dataclass(frozen=True)
class ScanImageLayout:
    volumes: int = 3
    planes: int = 2
    channels: tuple[int, ...] = (1, 2)  # saved channels, MATLAB-numbered
    height: int = 32  # lines per frame
    width: int = 24  # pixels per line
    frame_rate: float = 30.0
    fov_um: tuple[float, float] = (200.0, 160.0)  # width, height of the field of view
    zs: tuple[float, ...] = (0.0, 20.0)
    stamped: bool = True  # each page's description holds its frameTimestamps_sec

    @property
    def volume_rate(self) -> float:
        return self.frame_rate / self.planes


def frame_data(layout: ScanImageLayout) -> str:
    """The non-varying frame data, `SI.key = value` lines as ScanImage writes them."""
    w, h = layout.fov_um[0] / 2, layout.fov_um[1] / 2
    volumetric = layout.planes > 1
    lines = {
        "SI.VERSION_MAJOR": "2020",
        "SI.VERSION_MINOR": "1",
        "SI.acqState": "'grab'",
        "SI.objectiveResolution": "15",
        "SI.hChannels.channelName": "{'Channel 1' 'Channel 2' 'Channel 3' 'Channel 4'}",
        "SI.hChannels.channelSave": "[" + " ".join(str(c) for c in layout.channels) + "]"
        if len(layout.channels) > 1
        else str(layout.channels[0]),
        "SI.hRoiManager.linesPerFrame": str(layout.height),
        "SI.hRoiManager.pixelsPerLine": str(layout.width),
        "SI.hRoiManager.scanFrameRate": repr(layout.frame_rate),
        "SI.hRoiManager.scanVolumeRate": repr(layout.volume_rate),
        "SI.hRoiManager.imagingFovUm": f"[{-w} {-h};{w} {-h};{w} {h};{-w} {h}]",
        "SI.hScan2D.logFramesPerFile": "Inf",
        "SI.hStackManager.enable": "true" if volumetric else "false",
        "SI.hStackManager.numSlices": str(layout.planes),
        "SI.hStackManager.actualNumSlices": str(layout.planes),
        "SI.hStackManager.framesPerSlice": "1",
        "SI.hStackManager.numFramesPerVolume": str(layout.planes),
        "SI.hStackManager.numFramesPerVolumeWithFlyback": str(layout.planes),
        "SI.hStackManager.stackMode": "'fast'",
        "SI.hStackManager.zs": "[" + " ".join(str(z) for z in layout.zs[: layout.planes]) + "]",
    }
    return "\n".join(f"{k} = {v}" for k, v in lines.items()) + "\n"


def roi_groups(layout: ScanImageLayout) -> str:
    scanfield = {
        "ver": 1,
        "classname": "scanimage.mroi.scanfield.fields.RotatedRectangle",
        "name": "Default Imaging Scanfield",
        "centerXY": [0, 0],
        "sizeXY": [layout.fov_um[0] / 15, layout.fov_um[1] / 15],
        "pixelResolutionXY": [layout.width, layout.height],
    }
    roi = {"ver": 1, "classname": "scanimage.mroi.Roi", "name": "Default Imaging ROI", "zs": 0}
    group = {"ver": 1, "classname": "scanimage.mroi.RoiGroup", "name": "Default Imaging ROI Group"}
    groups = {"imagingRoiGroup": {**group, "rois": {**roi, "scanfields": scanfield}}, "photostimRoiGroups": None}
    return json.dumps({"RoiGroups": groups})


def frames(layout: ScanImageLayout) -> np.ndarray:
    """The pixel values: (volumes, planes, channels, height, width) uint16, distinct for every page."""
    rng = np.random.default_rng(18)
    shape = (layout.volumes, layout.planes, len(layout.channels), layout.height, layout.width)
    base = rng.integers(0, 1000, shape, dtype=np.uint16)
    tag = np.arange(np.prod(shape[:3]), dtype=np.uint16).reshape(shape[:3]) * 1000
    return base + tag[..., None, None]


def _description(frame: int, layout: ScanImageLayout) -> str:
    """The varying frame data of one page (`frame` counts planes, not channels, as ScanImage does)."""
    return (
        f"frameNumbers = {frame + 1}\nacquisitionNumbers = 1\nframeNumberAcquisition = {frame + 1}\n"
        + (f"frameTimestamps_sec = {frame / layout.frame_rate:.6f}\n" if layout.stamped else "")
        + "acqTriggerTimestamps_sec = \n"
        "nextFileMarkerTimestamps_sec = \nendOfAcquisition = 0\nendOfAcquisitionMode = 0\n"
        "dcOverVoltage = 0\nepoch = [2020 1 2 10 11 12.345]\nauxTrigger0 = []\nauxTrigger1 = []\n"
        "auxTrigger2 = []\nauxTrigger3 = []\nI2CData = {}\n"
    )


def write_scanimage(path: Path, layout: ScanImageLayout | None = None) -> Path:
    """Write a ScanImage 2016+ TIFF (default: 3 volumes of 2 planes × 2 channels, 32 × 24 pixels)."""
    layout = layout or ScanImageLayout()
    static = frame_data(layout)
    rois = roi_groups(layout)
    block0, block1 = static.encode() + b"\0", rois.encode() + b"\0"
    with path.open("wb") as f:
        f.write(b"II" + struct.pack("<HHHQ", 43, 8, 0, 0))  # BigTIFF header: its first IFD comes later
        f.write(struct.pack("<IIII", MAGIC, 3, len(block0), len(block1)))
        f.write(block0 + block1)
    quiet = logging.getLogger("tifffile")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # tifffile warns that the file "contains no pages": it has none yet
    try:
        _write_pages(path, layout, static, rois)
    finally:
        quiet.setLevel(level)
    return path


def _write_pages(path: Path, layout: ScanImageLayout, static: str, rois: str) -> None:
    import tifffile

    data = frames(layout)
    with tifffile.TiffWriter(path, append=True) as tif:  # pages after the header block, linked from the header
        for t in range(layout.volumes):
            for z in range(layout.planes):
                for c in range(len(layout.channels)):
                    tif.write(
                        data[t, z, c],
                        software=static,
                        description=_description(t * layout.planes + z, layout),
                        extratags=[(315, "s", 0, rois, True)],  # Artist: the ROI groups
                        metadata=None,
                        contiguous=False,
                    )


def legacy_description(frame_rate: float, channels: tuple[int, ...], n_frames: int, height: int, width: int) -> str:
    """The `state.` header ScanImage 3.8 writes into every page's ImageDescription (CR-separated, a subset)."""
    keys = {
        "state.software.version": "3.8",
        "state.acq.numberOfZSlices": "1",
        "state.acq.numberOfFrames": str(n_frames),
        "state.acq.linesPerFrame": str(height),
        "state.acq.pixelsPerLine": str(width),
        "state.acq.frameRate": repr(frame_rate),
        **{f"state.acq.savingChannel{k}": "1" if k in channels else "0" for k in range(1, 5)},
        "state.acq.numberOfChannelsSave": str(len(channels)),
        "state.internal.triggerTimeString": "'7/30/2014 21:10:00.731'",
    }
    return "\r".join(f"{k}={v}" for k, v in keys.items())


def write_scanimage_legacy(path: Path, frames: int = 5, channels: tuple[int, ...] = (1, 2), rate: float = 4.0) -> Path:
    """A ScanImage 3.8 TIFF (classic TIFF, the header in every page's description, channels interleaved page by
    page); pixel values (frame, channel, height, width) are `legacy_frames(frames, len(channels))`."""
    import tifffile

    data = legacy_frames(frames, len(channels))
    description = legacy_description(rate, channels, frames, data.shape[2], data.shape[3])
    with tifffile.TiffWriter(path) as tif:
        for t in range(frames):
            for c in range(len(channels)):
                tif.write(data[t, c], description=description, metadata=None, contiguous=False)
    return path


def legacy_frames(frames: int, channels: int) -> np.ndarray:
    rng = np.random.default_rng(38)
    return rng.integers(0, 2000, (frames, channels, 16, 12), dtype=np.uint16)
