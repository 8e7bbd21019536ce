"""ThorImageLS acquisition folders as ThorImage exports them: `Experiment.xml` (`<ThorImageExperiment>`) beside
OME-TIFFs written with tifffile whose OME-XML (the same in every file) lists every file of the acquisition.

Two layouts, as ThorImageLS writes them: `stack`, one multi-page `ChanA_001_001_001_001.tif` holding every frame
of a single-channel stream; `frames`, one single-page `Chan<A|B>_0001_0001_<plane>_<time>.tif` per channel,
plane and time point. The OME-XML carries no channel names (ThorImageLS writes none; they are the `Wavelength`
names of Experiment.xml) and `TimeIncrement="0"`, as ThorImageLS writes it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from xml.etree import ElementTree as ET

import numpy as np

OME_NS = "http://www.openmicroscopy.org/Schemas/OME/2016-06"
UTIME = 1796121000  # 2026-12-01 10:30:00 UTC


@dataclass(frozen=True)
class ThorSample:
    folder: Path
    frames: np.ndarray  # (time, plane, channel, height, width) uint16, as written
    channel_names: tuple[str, ...]
    frame_rate_hz: float
    pixel_size_um: float
    laser_nm: float
    files: tuple[Path, ...]


def _experiment(sample: ThorSample, height: int, width: int, n_frames: int, n_planes: int) -> bytes:
    root = ET.Element("ThorImageExperiment")
    ET.SubElement(root, "Software", {"version": "4.3.2023.6271"})
    ET.SubElement(root, "Name", {"name": sample.folder.name})
    ET.SubElement(root, "Date", {"date": "12/01/2026 10:30:00", "uTime": str(UTIME)})
    ET.SubElement(root, "User", {"name": "rig"})
    ET.SubElement(root, "Magnification", {"mag": "16", "indexOfRefraction": "1.33", "name": "16X"})
    wavelengths = ET.SubElement(root, "Wavelengths", {"nyquistExWavelengthNM": "488", "nyquistEmWavelengthNM": "488"})
    for name in sample.channel_names:
        ET.SubElement(wavelengths, "Wavelength", {"name": name, "exposureTimeMS": "0"})
    ET.SubElement(wavelengths, "ChannelEnable", {"Set": str(2 ** len(sample.channel_names) - 1)})
    zstage = {"name": "ThorZPiezo", "steps": str(n_planes), "stepSizeUM": "10", "startPos": "0.05"}
    ET.SubElement(root, "ZStage", {**zstage, "zStreamFrames": "1", "zStreamMode": "0"})
    ET.SubElement(root, "Timelapse", {"timepoints": "1", "intervalSec": "1"})
    px = f"{sample.pixel_size_um:g}"
    lsm = {"name": "ResonanceGalvo", "pixelX": str(width), "pixelY": str(height), "fieldSize": "120"}
    lsm |= {"widthUM": f"{width * sample.pixel_size_um:g}", "heightUM": f"{height * sample.pixel_size_um:g}"}
    lsm |= {"pixelSizeUM": px, "frameRate": f"{sample.frame_rate_hz:g}", "averageMode": "0", "averageNum": "1"}
    ET.SubElement(root, "LSM", lsm)
    ET.SubElement(root, "PMT", {"enableA": "1", "gainA": "60", "enableB": "1", "gainB": "60"})
    laser = {"enable": "1", "pos": f"{sample.laser_nm:g}", "seqEnable": "0"}
    ET.SubElement(root, "MultiPhotonLaser", laser)
    stream = {"enable": "1", "frames": str(n_frames * n_planes), "rawData": "0", "zFastEnable": str(int(n_planes > 1))}
    ET.SubElement(root, "Streaming", stream)
    ET.SubElement(root, "ExperimentNotes", {"text": ""})
    ET.indent(root)
    return b'<?xml version="1.0"?>\n' + ET.tostring(root, "utf-8")


def _omexml(
    sample: ThorSample, shape: tuple[int, int, int, int, int], pages: list[tuple[str, int, int, int, int]]
) -> str:
    """The OME-XML of the whole acquisition; `pages` are (file, c, z, t, ifd) of each plane image."""
    n_frames, n_planes, n_channels, height, width = shape
    ET.register_namespace("", OME_NS)
    root = ET.Element(f"{{{OME_NS}}}OME", {"UUID": f"urn:uuid:{uuid.uuid4()}", "Creator": "ThorImageLS"})
    image = ET.SubElement(root, f"{{{OME_NS}}}Image", {"ID": "Image:0", "Name": "Image0"})
    pixels = {"ID": "Pixels:0", "DimensionOrder": "XYCZT", "Type": "uint16", "SizeX": str(width)}
    pixels |= {"SizeY": str(height), "SizeC": str(n_channels), "SizeZ": str(n_planes), "SizeT": str(n_frames)}
    pixels |= {"PhysicalSizeX": f"{sample.pixel_size_um:g}", "PhysicalSizeY": f"{sample.pixel_size_um:g}"}
    element = ET.SubElement(image, f"{{{OME_NS}}}Pixels", {**pixels, "TimeIncrement": "0", "BigEndian": "false"})
    for c in range(n_channels):
        ET.SubElement(element, f"{{{OME_NS}}}Channel", {"ID": f"Channel:0:{c}", "SamplesPerPixel": "1"})
    ids = {name: f"urn:uuid:{uuid.uuid4()}" for name, *_ in pages}
    for name, c, z, t, ifd in pages:
        attrib = {"FirstC": str(c), "FirstZ": str(z), "FirstT": str(t), "IFD": str(ifd), "PlaneCount": "1"}
        tiffdata = ET.SubElement(element, f"{{{OME_NS}}}TiffData", attrib)
        ET.SubElement(tiffdata, f"{{{OME_NS}}}UUID", {"FileName": name}).text = ids[name]
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, "unicode")


def write_thor_folder(
    parent: Path,
    name: str = "20261201-001",
    n_frames: int = 6,
    n_planes: int = 1,
    channel_names: tuple[str, ...] = ("ChanA", "ChanB"),
    layout: Literal["stack", "frames"] = "frames",
    height: int = 32,
    width: int = 48,
    seed: int = 0,
) -> ThorSample:
    """Write `parent/<name>/` with Experiment.xml and the TIFFs; `stack` takes one channel and one plane."""
    import tifffile

    if layout == "stack" and (len(channel_names) != 1 or n_planes != 1):
        raise ValueError("the stack layout holds one channel of one plane")
    folder = parent / name
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = (n_frames, n_planes, len(channel_names), height, width)
    frames = rng.integers(0, 16384, size=shape, dtype=np.uint16)
    pages: list[tuple[str, int, int, int, int]] = []
    if layout == "stack":
        pages = [(f"{channel_names[0]}_001_001_001_001.tif", 0, 0, t, t) for t in range(n_frames)]
    else:
        for t in range(n_frames):
            for z in range(n_planes):
                for c, channel in enumerate(channel_names):
                    pages.append((f"{channel}_0001_0001_{z + 1:04d}_{t + 1:04d}.tif", c, z, t, 0))
    names = tuple(dict.fromkeys(p[0] for p in pages))
    sample = ThorSample(folder, frames, tuple(channel_names), 30.0, 1.5, 920.0, tuple(folder / n for n in names))
    omexml = _omexml(sample, shape, pages)
    for file in names:
        images = [frames[t, z, c] for f, c, z, t, _ in pages if f == file]
        with tifffile.TiffWriter(folder / file) as tif:
            for i, image in enumerate(images):
                tif.write(image, photometric="minisblack", description=omexml if i == 0 else None, metadata=None)
    (folder / "Experiment.xml").write_bytes(_experiment(sample, height, width, n_frames, n_planes))
    return sample
