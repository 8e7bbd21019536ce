"""ThorImageLS acquisitions (a folder of OME-TIFFs beside `Experiment.xml`), through roiextractors'
ThorTiffImagingExtractor: one two-photon movie per plane × channel (`TwoPhotonSeriesPlane0ChanA`).

Experiment.xml gives the channels (`Wavelengths/Wavelength@name`), the frame rate (`LSM@frameRate`), the pixel
size (`LSM@pixelSizeUM`), the laser (`MultiPhotonLaser@pos`, nm, when enabled) and the start (`Date@uTime`). A
fast-Z (volumetric) acquisition's volume rate depends on its flyback frames, which roiextractors does not count:
its rate is left for `ophys.rate` (a note says so) rather than guessed, and a plane of it is read through
roiextractors' `select_plane` (every plane of the frames asked is read). roiextractors opens every TIFF the
OME-XML names before it reads a frame: a copy missing one is refused, naming it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from xml.etree import ElementTree as ET

from nwbconvert.errors import SourceError
from nwbconvert.imaging import ImagingPlane, Microscopy, Movie, OpticalChannel
from nwbconvert.model import Device, HeaderMetadata, Session, SourceNote
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions, head
from nwbconvert.readers.ophys.base import (
    ROIEXTRACTORS,
    ExtractorFrames,
    OpticalSource,
    channel_names,
    finite_rate,
    movie_name,
    plane_name,
    roiextractors_version,
    stubbed,
    times_of,
)

EXPERIMENT = "Experiment.xml"
DEVICE = "ThorMicroscope"
TIFF_SUFFIXES = (".tif", ".tiff")


@dataclass(frozen=True)
class ThorHeader:
    """What Experiment.xml says (None: it does not say)."""

    version: str
    start: dt.datetime | None
    channels: tuple[str, ...]
    frame_rate_hz: float | None
    pixel_size_um: float | None
    laser_nm: float | None


def is_thor_experiment(xml: Path) -> bool:
    """True when the file's root element (within its first KB) is `<ThorImageExperiment>`."""
    text = head(xml, 2048).lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<?xml"):
        text = text[text.find(b"?>") + 2 :].lstrip()
    return text.startswith(b"<ThorImageExperiment")


def thor_folder(path: Path) -> Path | None:
    """The acquisition folder `path` names (the folder, its Experiment.xml or one of its TIFFs), if it is one."""
    if path.is_file() and not (path.name == EXPERIMENT or path.suffix.lower() in TIFF_SUFFIXES):
        return None
    folder = path if path.is_dir() else path.parent
    return folder if is_thor_experiment(folder / EXPERIMENT) else None


def _attr(root: ET.Element, tag: str, name: str) -> str | None:
    element = root.find(tag)
    return None if element is None else element.get(name)


def read_header(xml: Path) -> ThorHeader:
    root = ET.parse(xml).getroot()
    dated = next((d for d in root.findall("Date") if d.get("uTime")), None)  # some versions write several
    utime = finite_rate(None if dated is None else dated.get("uTime"))
    laser_on = _attr(root, "MultiPhotonLaser", "enable") not in (None, "0")
    return ThorHeader(
        version=_attr(root, "Software", "version") or "",
        start=dt.datetime.fromtimestamp(utime, tz=dt.timezone.utc) if utime is not None else None,
        channels=tuple(w.get("name", "") for w in root.findall("Wavelengths/Wavelength") if w.get("name")),
        frame_rate_hz=finite_rate(_attr(root, "LSM", "frameRate")),
        pixel_size_um=finite_rate(_attr(root, "LSM", "pixelSizeUM")),
        laser_nm=finite_rate(_attr(root, "MultiPhotonLaser", "pos")) if laser_on else None,
    )


def first_tiff(folder: Path, channels: tuple[str, ...]) -> Path:
    """The TIFF roiextractors opens: the first of the first channel (every file holds the whole OME-XML)."""
    tiffs = sorted(p for p in folder.iterdir() if p.suffix.lower() in TIFF_SUFFIXES and not p.name.startswith("."))
    if not tiffs:
        raws = sorted(folder.glob("Image*.raw"))
        hint = f" (it holds {raws[0].name}: ThorImageLS saved raw data; export it to TIFF first)" if raws else ""
        raise SourceError(f"{folder}: holds no TIFF file beside its {EXPERIMENT}{hint}.")
    own = [p for p in tiffs if channels and p.name.startswith(channels[0])]
    return (own or tiffs)[0]


def _plane(header: ThorHeader, index: int, n_planes: int, names: list[str], rate: float | None) -> ImagingPlane:
    size = header.pixel_size_um
    return ImagingPlane(
        name=plane_name(index),
        channels=tuple(OpticalChannel(n, f"ThorImageLS channel {raw}") for n, raw in zip(names, header.channels)),
        rate_hz=rate,
        device=DEVICE,
        description=f"Plane {index} of {n_planes} of a ThorImageLS acquisition",
        excitation_lambda_nm=header.laser_nm,
        grid_spacing_um=(size, size) if size is not None else None,
        microscopy=Microscopy.TWO_PHOTON,
    )


def check_files(tiff: Path) -> None:
    """Every file the OME-XML's TiffData names must be there: roiextractors opens each of them (to count its pages)
    before it reads a frame, so a copy missing one cannot be read even in part; say which."""
    import tifffile

    with tifffile.TiffFile(tiff, _multifile=False) as tif:
        text = tif.ome_metadata or ""
    pixels = ET.fromstring(text).find(".//{*}Pixels") if text else None
    entries = [] if pixels is None else pixels.findall("{*}TiffData/{*}UUID")
    names = dict.fromkeys(u.get("FileName") for u in entries if u.get("FileName"))
    missing = [name for name in names if name and not (tiff.parent / name).is_file()]
    if missing:
        raise SourceError(
            f"{tiff.parent}: the copy looks incomplete: {len(missing)} of the {len(names)} TIFF files its OME-XML "
            f"names are missing ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}). Copy the "
            "acquisition folder again (roiextractors opens every file before it reads a frame)."
        )


class ThorReader(ReaderBase):
    name = "thor"
    description = "ThorImageLS acquisition folder (Experiment.xml + OME-TIFFs)"
    suffixes = (".tif", ".xml")
    requires = (ROIEXTRACTORS,)
    verified = "generated"  # tests/test_ophys_microscopes.py, on synthetic/ophys_thor.py's folders
    input_kind = "file or folder"
    manufacturer = "Thorlabs"

    def probe(self, path: Path) -> Match:
        """CONTENT for a folder whose Experiment.xml is a `<ThorImageExperiment>`, that file, or a TIFF beside it."""
        try:
            return Match.CONTENT if thor_folder(path) is not None else Match.NO
        except OSError:
            return Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        with self.reading(path):
            folder = thor_folder(path) or (path if path.is_dir() else path.parent)
            xml = folder / EXPERIMENT
            header = read_header(xml)
            return self._read(folder, xml, header, first_tiff(folder, header.channels), options)

    def _read(self, folder: Path, xml: Path, header: ThorHeader, tiff: Path, options: ReadOptions) -> Session:
        from roiextractors import ThorTiffImagingExtractor

        check_files(tiff)
        raw_names = tuple(ThorTiffImagingExtractor.get_available_channel_names(file_path=tiff))
        names = channel_names(raw_names, len(raw_names))
        header = replace(header, channels=raw_names)
        volumes = [
            ThorTiffImagingExtractor(tiff, channel_name=raw if len(raw_names) > 1 else None) for raw in raw_names
        ]
        n_planes = int(volumes[0].get_num_planes())
        rate = finite_rate(volumes[0].get_sampling_frequency()) if n_planes == 1 else None
        notes: tuple[SourceNote, ...] = ()
        if n_planes > 1:
            message = (
                f"{xml}: a fast-Z acquisition of {n_planes} planes; its volume rate depends on the flyback frames, "
                "which the file does not say reliably: set ophys.rate to the volume rate (Hz)."
            )
            notes = (SourceNote("no-rate", str(xml), message),)
        planes = [_plane(header, p, n_planes, names, rate) for p in range(n_planes)]
        movies = []
        for p, plane in enumerate(planes):
            for volume, name in zip(volumes, names):
                single = volume.select_plane(p) if n_planes > 1 else volume
                single = stubbed(single, rate, options.stub_seconds)
                movies.append(
                    Movie(movie_name(plane, name), plane.name, name, ExtractorFrames(single), times_of(single, rate))
                )
        tiffs = sorted(p for p in folder.iterdir() if p.suffix.lower() in TIFF_SUFFIXES)
        return OpticalSource(
            reader=self.name,
            reader_version=roiextractors_version(),
            path=folder,
            planes=tuple(planes),
            movies=tuple(movies),
            files=(xml, *tiffs),
            device=Device(DEVICE, f"Thorlabs two-photon microscope, ThorImageLS {header.version}".strip(), "Thorlabs"),
            header=HeaderMetadata(session_start_time=header.start),
            notes=notes,
        ).session()
