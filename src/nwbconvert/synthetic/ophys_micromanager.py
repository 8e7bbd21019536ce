"""Micro-Manager 2.0 acquisitions as its multipage-TIFF storage writes them: a folder `<name>/` holding
`<name>_MMStack_Pos0.ome.tif` and `DisplaySettings.json`.

The TIFF pages are written with tifffile (OME-XML in the first page's ImageDescription, each image's own JSON in
tag 51123 `MicroManagerMetadata`); then, as Micro-Manager does, its non-TIFF header goes right after the 8-byte
TIFF header (the index-map, display-settings and comments pointers, then the summary JSON), and the index map,
display settings and comments after the last page. Moving the pages to make room shifts every offset of the
file; `_shift` rewrites them (classic little-endian TIFF as tifffile writes it).

Not reproduced: Micro-Manager's fixed page layout (13-entry IFDs with the pixels right after them, which
tifffile's `mmstack` series assumes when it assembles a movie from the index map): read these files' pages one by
one, as roiextractors does."""

from __future__ import annotations

import json
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np

OME_NS = "http://www.openmicroscopy.org/Schemas/OME/2016-06"
INDEX_MAP_HEADER, INDEX_MAP = 54773648, 3453623
DISPLAY_HEADER, DISPLAY = 483765892, 347834724
COMMENTS_HEADER, COMMENTS = 99384722, 84720485
SUMMARY_HEADER = 2355492
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}
OFFSET_TAGS = (273, 324)  # StripOffsets, TileOffsets: their values are offsets too


@dataclass(frozen=True)
class MicroManagerSample:
    folder: Path
    frames: np.ndarray  # (time, height, width) uint16 as written; (time, channel, height, width) with channels
    channels: tuple[str, ...]
    interval_ms: float
    playback_fps: float
    pixel_size_um: float
    file: Path


def _shift(tiff: bytearray, delta: int) -> list[int]:
    """Add `delta` to every offset of a classic little-endian TIFF; return its IFD offsets (unshifted)."""
    ifds: list[int] = []
    pointer_at = 4
    ifd = struct.unpack_from("<I", tiff, 4)[0]
    while ifd:
        ifds.append(ifd)
        struct.pack_into("<I", tiff, pointer_at, ifd + delta)
        (n,) = struct.unpack_from("<H", tiff, ifd)
        for entry in range(ifd + 2, ifd + 2 + 12 * n, 12):
            tag, kind, count = struct.unpack_from("<HHI", tiff, entry)
            size = TYPE_SIZES[kind] * count
            where = entry + 8 if size <= 4 else struct.unpack_from("<I", tiff, entry + 8)[0]
            if size > 4:
                struct.pack_into("<I", tiff, entry + 8, where + delta)
            if tag in OFFSET_TAGS:
                code = "<" + ("H" if kind == 3 else "I") * count
                values = struct.unpack_from(code, tiff, where)
                struct.pack_into(code, tiff, where, *(v + delta for v in values))
        pointer_at = ifd + 2 + 12 * n
        ifd = struct.unpack_from("<I", tiff, pointer_at)[0]
    return ifds


def _omexml(name: str, file: str, frames: np.ndarray, channels: tuple[str, ...], interval_ms: float, px: float) -> str:
    """The OME-XML of the acquisition; image i of the file is time i // C, channel i % C (channels fastest)."""
    n_frames, n_channels, height, width = frames.shape
    ET.register_namespace("", OME_NS)
    root = ET.Element(f"{{{OME_NS}}}OME", {"UUID": f"urn:uuid:{uuid.uuid4()}", "Creator": "Micro-Manager 2.0.3"})
    image = ET.SubElement(root, f"{{{OME_NS}}}Image", {"ID": "Image:0", "Name": name})
    pixels = {"ID": "Pixels:0", "BigEndian": "false", "DimensionOrder": "XYCZT", "Interleaved": "false"}
    pixels |= {"SizeC": str(n_channels), "SizeT": str(n_frames), "SizeX": str(width), "SizeY": str(height)}
    pixels |= {"SizeZ": "1", "PhysicalSizeX": f"{px:g}", "PhysicalSizeY": f"{px:g}", "Type": "uint16"}
    element = ET.SubElement(image, f"{{{OME_NS}}}Pixels", {**pixels, "SignificantBits": "16"})
    for c, channel in enumerate(channels):
        attrib = {"ID": f"Channel:0:{c}", "Name": channel, "SamplesPerPixel": "1"}
        ET.SubElement(element, f"{{{OME_NS}}}Channel", attrib)
    file_uuid = f"urn:uuid:{uuid.uuid4()}"
    for i in range(n_frames * n_channels):
        attrib = {"FirstC": str(i % n_channels), "FirstT": str(i // n_channels), "FirstZ": "0", "IFD": str(i)}
        tiffdata = ET.SubElement(element, f"{{{OME_NS}}}TiffData", {**attrib, "PlaneCount": "1"})
        ET.SubElement(tiffdata, f"{{{OME_NS}}}UUID", {"FileName": file}).text = file_uuid
    for i in range(n_frames * n_channels):
        t, c = divmod(i, n_channels)
        plane = {"TheC": str(c), "TheT": str(t), "TheZ": "0", "DeltaT": f"{t * interval_ms:g}", "DeltaTUnit": "ms"}
        ET.SubElement(element, f"{{{OME_NS}}}Plane", plane)
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, "unicode")


def _summary(
    name: str, folder: Path, frames: np.ndarray, channels: tuple[str, ...], interval_ms: float, px: float
) -> dict:
    n_frames, n_channels, height, width = frames.shape
    return {
        "Prefix": name,
        "Directory": str(folder.parent),
        "MicroManagerVersion": "2.0.3 20231201",
        "MetadataVersion": 10,
        "StartTime": "2026-12-01 10:30:00.000 +0000",
        "Width": width,
        "Height": height,
        "PixelType": "GRAY16",
        "BitDepth": 16,
        "PixelSize_um": px,
        "z-step_um": 0.0,
        "Interval_ms": interval_ms,
        "Frames": n_frames,
        "Slices": 1,
        "Positions": 1,
        "Channels": n_channels,
        "ChNames": list(channels),
        "AxisOrder": ["position", "time", "z", "channel"],
        "Core-Camera": "Andor sCMOS Camera",
    }


def _block(magic: int, payload: bytes) -> bytes:
    return struct.pack("<II", magic, len(payload)) + payload


def _write_pages(file: Path, frames: np.ndarray, channels: tuple[str, ...], omexml: str, interval_ms: float) -> None:
    """The TIFF itself, with tifffile: channels fastest, each image's own metadata in tag 51123."""
    import tifffile

    n_frames, n_channels, height, width = frames.shape
    with tifffile.TiffWriter(file) as tif:
        for i in range(n_frames * n_channels):
            t, c = divmod(i, n_channels)
            image = {"ChannelIndex": c, "FrameIndex": t, "SliceIndex": 0, "PositionIndex": 0, "Channel": channels[c]}
            image |= {"ElapsedTime-ms": t * interval_ms, "Width": width, "Height": height, "PixelSizeUm": 0.65}
            tags = [(51123, "s", 0, json.dumps(image), True)]
            description = omexml if i == 0 else None
            tif.write(frames[t, c], photometric="minisblack", description=description, metadata=None, extratags=tags)


def _add_micromanager_header(file: Path, summary: dict, channels: tuple[str, ...]) -> None:
    """Micro-Manager's non-TIFF header after the TIFF header (the pages moved to make room), and its index map,
    display settings and comments after the last page."""
    text = json.dumps(summary).encode()
    head_size = 8 + 32 + len(text)
    delta = head_size + (-head_size) % 8
    tiff = bytearray(file.read_bytes())
    ifds = [offset + delta for offset in _shift(tiff, delta)]
    body = tiff[:8] + bytes(delta) + tiff[8:]
    n = len(channels)
    entries = b"".join(struct.pack("<5I", i % n, 0, i // n, 0, o) for i, o in enumerate(ifds))
    index = struct.pack("<II", INDEX_MAP, len(ifds)) + entries
    contrast = [{"Color": -16711936, "Name": channel, "Min": 0, "Max": 65535} for channel in channels]
    display = _block(DISPLAY, json.dumps(contrast).encode())
    comments = _block(COMMENTS, json.dumps({"Summary": "", "FrameComments": {}}).encode())
    index_at = len(body)
    display_at, comments_at = index_at + len(index), index_at + len(index) + len(display)
    pointers = (INDEX_MAP_HEADER, index_at, DISPLAY_HEADER, display_at, COMMENTS_HEADER, comments_at)
    header = struct.pack("<8I", *pointers, SUMMARY_HEADER, len(text)) + text
    body[8 : 8 + len(header)] = header
    file.write_bytes(bytes(body) + index + display + comments)


def write_micromanager_folder(
    parent: Path,
    name: str = "GCaMP_widefield_1",
    n_frames: int = 7,
    height: int = 32,
    width: int = 48,
    channels: tuple[str, ...] = ("GFP",),
    interval_ms: float = 50.0,
    seed: int = 0,
) -> MicroManagerSample:
    """Write `parent/<name>/` with `<name>_MMStack_Pos0.ome.tif` and `DisplaySettings.json`."""
    folder = parent / name
    folder.mkdir(parents=True, exist_ok=True)
    shape = (n_frames, len(channels), height, width)
    frames = np.random.default_rng(seed).integers(0, 65535, size=shape, dtype=np.uint16)
    file = folder / f"{name}_MMStack_Pos0.ome.tif"
    px = 0.65
    _write_pages(file, frames, channels, _omexml(name, file.name, frames, channels, interval_ms, px), interval_ms)
    _add_micromanager_header(file, _summary(name, folder, frames, channels, interval_ms, px), channels)
    fps = 1000.0 / interval_ms
    settings = {
        "encoding": "UTF-8",
        "format": "Micro-Manager Property Map",
        "major_version": 2,
        "minor_version": 0,
        "map": {
            "PlaybackFPS": {"type": "DOUBLE", "scalar": fps},
            "ChannelColorMode": {"type": "STRING", "scalar": "COLOR"},
            "UniformChannelScaling": {"type": "BOOLEAN", "scalar": False},
        },
    }
    (folder / "DisplaySettings.json").write_text(json.dumps(settings, indent=1))
    return MicroManagerSample(
        folder, frames[:, 0] if len(channels) == 1 else frames, channels, interval_ms, fps, px, file
    )
