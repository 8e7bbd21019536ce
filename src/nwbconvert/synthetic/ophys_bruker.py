"""Bruker PrairieView T-series folders as PrairieView 5.x writes them: `<folder>/<folder>.xml` (the `<PVScan>`
environment and sequence file) beside one single-page OME-TIFF per frame, plane and channel
(`<folder>_Cycle00001_Ch1_000001.ome.tif`), or one multi-page OME-TIFF per channel whose pages the frames' `<File
page=…>` name, written with tifffile.

A single-plane series is one `<Sequence type="TSeries Timed Element">` whose frames are the time points; a
volumetric series is one `<Sequence type="TSeries ZSeries Element">` per volume (cycle) whose frames are the
planes, each with its own Z position. `relativeTime` runs on across cycles, as PrairieView writes it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from xml.etree import ElementTree as ET

import numpy as np

VERSION = "5.8.64.800"
DATE = "12/1/2026 10:30:00 AM"


@dataclass(frozen=True)
class BrukerSample:
    folder: Path
    frames: np.ndarray  # (time, plane, channel, height, width) uint16, as written
    channel_names: tuple[str, ...]
    frame_period_s: float  # one frame (one plane) of the scan
    microns_per_pixel: tuple[float, float]  # (x, y)
    z_um: tuple[float, ...]  # focus of each plane (motor + piezo)
    position_xy_um: tuple[float, float]
    laser_nm: float


def _state(parent: ET.Element, key: str, value: str | None = None) -> ET.Element:
    attrib = {"key": key} if value is None else {"key": key, "value": value}
    return ET.SubElement(parent, "PVStateValue", attrib)


def _position(shard: ET.Element, x: float, y: float, z_motor: float, z_piezo: float) -> None:
    pos = _state(shard, "positionCurrent")
    for axis, values in (("XAxis", [(x, "")]), ("YAxis", [(y, "")]), ("ZAxis", [(z_motor, "Z Focus")])):
        if axis == "ZAxis":
            values.append((z_piezo, "Bruker 400 μm Piezo"))
        sub = ET.SubElement(pos, "SubindexedValues", {"index": axis})
        for i, (value, description) in enumerate(values):
            attrib = {"subindex": str(i), "value": f"{value:g}"}
            if description:
                attrib["description"] = description
            ET.SubElement(sub, "SubindexedValue", attrib)


def _environment(root: ET.Element, sample: BrukerSample, height: int, width: int, z_motor: float) -> None:
    shard = ET.SubElement(root, "PVStateShard")
    _state(shard, "activeMode", "ResonantGalvo")
    _state(shard, "bitDepth", "13")
    _state(shard, "dwellTime", "0.4")
    _state(shard, "framePeriod", f"{sample.frame_period_s:.9f}")
    laser = _state(shard, "laserWavelength")
    ET.SubElement(laser, "IndexedValue", {"index": "0", "value": f"{sample.laser_nm:g}", "description": "InSight"})
    _state(shard, "linesPerFrame", str(height))
    microns = _state(shard, "micronsPerPixel")
    for axis, value in zip(("XAxis", "YAxis", "ZAxis"), (*sample.microns_per_pixel, 5.0)):
        ET.SubElement(microns, "IndexedValue", {"index": axis, "value": f"{value:g}"})
    _state(shard, "objectiveLens", "Nikon 16X")
    _state(shard, "objectiveLensMag", "16")
    _state(shard, "opticalZoom", "2")
    _state(shard, "pixelsPerLine", str(width))
    pmt = _state(shard, "pmtGain")
    for i in range(len(sample.channel_names)):
        ET.SubElement(pmt, "IndexedValue", {"index": str(i), "value": "650", "description": f"PMT {i + 1} HV"})
    x, y = sample.position_xy_um
    _position(shard, x, y, z_motor, sample.z_um[0] - z_motor)
    _state(shard, "samplesPerPixel", "3")


def _page(sample: BrukerSample, path: Path, t: int | None, plane: int, c: int) -> None:
    """One frame's OME-TIFF, or (`t` None) a channel's every frame as one multi-page OME-TIFF."""
    import tifffile

    data = sample.frames[:, plane, c] if t is None else sample.frames[t, plane, c]
    metadata: dict[str, object] = {"axes": "YX" if t is not None else "TYX"}
    metadata |= {"PhysicalSizeX": sample.microns_per_pixel[0]}
    metadata |= {"PhysicalSizeY": sample.microns_per_pixel[1], "Channel": {"Name": sample.channel_names[c]}}
    tifffile.imwrite(path, data, ome=True, photometric="minisblack", metadata=metadata)


FramePlan = tuple[int, int, int, int, float, float]


def _frames_of(n_frames: int, n_planes: int, cycles: int, period: float, gap: float) -> list[FramePlan]:
    """(sequence, frame in it, time point, plane) and (relativeTime, absoluteTime) of each `<Frame>` in order."""
    out: list[FramePlan] = []
    per_cycle = n_frames // cycles
    for t in range(n_frames):
        for plane in range(n_planes):
            if n_planes > 1:  # one sequence per volume; relativeTime runs on
                s, f, rel = t, plane, (t * n_planes + plane) * period
                at = rel
            else:  # one sequence per cycle; relativeTime starts again at each
                s, f = divmod(t, per_cycle)
                rel, at = f * period, s * (per_cycle * period + gap) + f * period
            out.append((s, f, t, plane, rel, 3.5 + at))
    return out


def _sequences(root: ET.Element, sample: BrukerSample, z_motor: float, stacks: bool, cycles: int, gap: float) -> None:
    """One sequence per cycle of a single plane's frames, or one per volume whose frames are its planes; one
    OME-TIFF per frame and channel, or (`stacks`) one multi-page OME-TIFF per channel whose `page` each frame
    names."""
    n_frames, n_planes = sample.frames.shape[:2]
    kind = "TSeries ZSeries Element" if n_planes > 1 else "TSeries Timed Element"
    sequences: dict[int, ET.Element] = {}
    for s, f, t, plane, rel, at in _frames_of(n_frames, n_planes, cycles, sample.frame_period_s, gap):
        if s not in sequences:
            attrib = {"type": kind, "cycle": str(s + 1), "time": "10:30:01.0000000"}
            sequences[s] = ET.SubElement(root, "Sequence", attrib)
        attrib = {"relativeTime": f"{rel:.9f}", "absoluteTime": f"{at:.9f}", "index": str(f + 1)}
        frame = ET.SubElement(sequences[s], "Frame", {**attrib, "parameterSet": "CurrentSettings"})
        for c, channel in enumerate(sample.channel_names):
            number = int(channel[2:]) if re.fullmatch(r"Ch\d+", channel) else c + 1  # PMT "Ch2" is channel 2
            filename = f"{sample.folder.name}_Cycle{s + 1:05d}_Ch{number}_{1 if stacks else f + 1:06d}.ome.tif"
            page = str(t + 1 if stacks else 1)
            attrib = {"channel": str(number), "channelName": channel, "page": page, "filename": filename}
            ET.SubElement(frame, "File", attrib)
            if not stacks or t == 0:
                _page(sample, sample.folder / filename, None if stacks else t, plane, c)
        ET.SubElement(frame, "ExtraParameters", {"validData": "True"})
        if n_planes > 1:
            x, y = sample.position_xy_um
            _position(ET.SubElement(frame, "PVStateShard"), x, y, z_motor, sample.z_um[plane] - z_motor)


def write_bruker_folder(
    parent: Path,
    name: str = "TSeries-12012026-1030-001",
    n_frames: int = 6,
    n_planes: int = 1,
    channel_names: tuple[str, ...] = ("Ch1", "Ch2"),
    height: int = 32,
    width: int = 48,
    frame_period_s: float = 0.033474728,
    layout: Literal["frames", "stacks"] = "frames",
    cycles: int = 1,
    gap_s: float = 1.0,
    seed: int = 0,
) -> BrukerSample:
    """Write `parent/<name>/` with `<name>.xml`, `<name>.env` and the OME-TIFF pages; return what was written.
    `stacks` (single plane only) writes one multi-page file per channel, as PrairieView 5.8 can; `cycles` splits a
    single plane's frames into that many sequences, `gap_s` apart (a burst / multi-cycle T-series)."""
    one_plane = n_planes == 1 or (layout == "frames" and cycles == 1)
    if not one_plane or n_frames % cycles or (layout == "stacks" and cycles > 1):
        raise ValueError("stacks and cycles are of one plane; stacks of one cycle; frames split evenly into cycles")
    folder = parent / name
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 8192, size=(n_frames, n_planes, len(channel_names), height, width), dtype=np.uint16)
    z_motor = -152.5
    sample = BrukerSample(
        folder=folder,
        frames=frames,
        channel_names=tuple(channel_names),
        frame_period_s=frame_period_s,
        microns_per_pixel=(1.25, 1.5),
        z_um=tuple(z_motor + 20.0 + 25.0 * p for p in range(n_planes)),
        position_xy_um=(-1203.25, 455.5),
        laser_nm=920.0,
    )
    root = ET.Element("PVScan", {"version": VERSION, "date": DATE, "notes": ""})
    ET.SubElement(root, "SystemIDs", {"SystemID": "4051"})
    _environment(root, sample, height, width, z_motor)
    _sequences(root, sample, z_motor, layout == "stacks", cycles, gap_s)
    ET.indent(root)
    (folder / f"{name}.xml").write_bytes(b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "utf-8"))
    (folder / f"{name}.env").write_text(
        f'<?xml version="1.0" encoding="utf-8"?>\n<Environment version="{VERSION}" date="{DATE}" />\n'
    )
    return sample
