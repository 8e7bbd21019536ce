"""A SpikeGLX run (Neuropixels 1.0 imec ap + lf, and nidq) with headers in SpikeGLX's .meta style."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nwbconvert.synthetic.signals import extracellular, square_wave

AP_RATE = 30000.0
LF_RATE = 2500.0
NI_RATE = 25000.0
AP_GAIN, LF_GAIN = 500, 250
RANGE_V = 0.6
T0_S = 57.9336  # SpikeGLX counts samples from acquisition start, before the run was triggered


@dataclass(frozen=True)
class SpikeGLXRun:
    folder: Path  # the run folder: <run>_g0
    ap_bin: Path
    lf_bin: Path
    nidq_bin: Path


def _imro(n_total: int) -> str:
    entries = "".join(f"({c} 0 0 {AP_GAIN} {LF_GAIN} 1)" for c in range(n_total))
    return f"(0,{n_total}){entries}"


def _shank_map(channels: list[int]) -> str:
    # (shanks, columns, rows) then (shank:col:row:used) per saved channel: NP1.0 staggered 2 columns
    return "(1,2,480)" + "".join(f"(0:{c % 2}:{c // 2}:1)" for c in channels)


def _meta(fields: dict[str, str]) -> str:
    plain = sorted((k, v) for k, v in fields.items() if not k.startswith("~"))
    tables = sorted((k, v) for k, v in fields.items() if k.startswith("~"))
    return "".join(f"{k}={v}\n" for k, v in plain + tables)


def _write(bin_path: Path, blocks: Iterator[np.ndarray], fields: dict[str, str], rate: float) -> None:
    """Stream (samples, channels) int16 blocks to the .bin, then write the .meta describing it."""
    first = next(blocks)
    written = _write_bin(bin_path, itertools.chain([first], blocks))
    fields = dict(fields)
    fields["fileSizeBytes"] = str(written.size)
    fields["fileSHA1"] = written.sha1
    fields["fileTimeSecs"] = repr(written.n_samples / rate)
    fields["nSavedChans"] = str(first.shape[1])
    bin_path.with_suffix(".meta").write_text(_meta(fields))


def _blocks(n_samples: int, rate: float, make: Callable[[int, int, int], np.ndarray]) -> Iterator[np.ndarray]:
    """make(start, n, block_index) for consecutive one-second blocks: memory stays small for long runs."""
    step = max(1, int(rate))
    for i, start in enumerate(range(0, n_samples, step)):
        yield make(start, min(step, n_samples - start), i)


COMMON_FIELDS = {  # every header of a run, besides fileCreateTime
    "appVersion": "20190327",
    "gateMode": "Immediate",
    "trigMode": "Immediate",
    "syncSourceIdx": "0",
    "syncSourcePeriod": "1",
    "typeImEnabled": "1",
    "typeNiEnabled": "1",
    "userNotes": "synthetic recording written by nwbconvert.synthetic",
}
IMEC_FIELDS = {  # both bands of the NP1.0 probe
    "acqApLfSy": "384,384,1",
    "imAiRangeMax": str(RANGE_V),
    "imAiRangeMin": str(-RANGE_V),
    "imCalibrated": "true",
    "imDatApi": "1.15",
    "imDatPrb_pn": "PRB_1_4_0480_1",
    "imDatPrb_port": "1",
    "imDatPrb_slot": "2",
    "imDatPrb_sn": "18005116811",
    "imDatPrb_type": "0",
    "imLEDEnable": "false",
    "imRoFile": "",
    "imStdby": "",
    "imTrgRising": "true",
    "imTrgSource": "0",
    "syncImInputSlot": "2",
    "typeThis": "imec",
    "~imroTbl": _imro(384),
}
NIDQ_FIELDS = {  # a PXIe-6341 saving one analog and one digital word
    "acqMnMaXaDw": "0,0,1,1",
    "niAiRangeMax": "5",
    "niAiRangeMin": "-5",
    "niAiTermination": "Default",
    "niClockLine1": "Internal",
    "niClockSource": f"PXI1Slot4_1ch_Int : {NI_RATE:.6f}",
    "niDev1": "PXI1Slot4",
    "niDev1ProductName": "PXIe-6341",
    "niMAChans1": "",
    "niMAGain": "1",
    "niMNChans1": "",
    "niMNGain": "200",
    "niMuxFactor": "1",
    "niSampRate": repr(NI_RATE),
    "niStartEnable": "false",
    "niXAChans1": "0",
    "niXDBytes1": "1",
    "niXDChans1": "0:7",
    "snsMnMaXaDw": "0,0,1,1",
    "snsSaveChanSubset": "all",
    "syncNiChan": "0",
    "syncNiChanType": "0",
    "syncNiThresh": "1.1",
    "typeThis": "nidq",
    "~snsChanMap": "(0,0,1,1,1)(XA0;0:0)(XD0;1:1)",
    "~snsShankMap": "(1,2,0)",
}


@dataclass(frozen=True)
class _Band:
    """One band of the imec probe: its file suffix, channel-name prefix, rate, gain, and where its seeds and its
    channels in the probe's numbering (AP 0-383, LF 384-767, sync 768) start."""

    name: str
    prefix: str
    rate: float
    gain: int
    seed_offset: int
    first_channel: int


AP = _Band("ap", "AP", AP_RATE, AP_GAIN, 0, 0)
LF = _Band("lf", "LF", LF_RATE, LF_GAIN, 50000, 384)


def write_spikeglx_run(
    root: Path,
    run: str = "Sample",
    seconds: float = 3.0,
    n_channels: int = 32,
    start: dt.datetime = dt.datetime(2026, 1, 15, 10, 0, 0),
    seed: int = 0,
) -> SpikeGLXRun:
    """Write <root>/<run>_g0/ with imec0 ap+lf (the first `n_channels` sites of a NP1.0 probe) and nidq."""
    folder = root / f"{run}_g0"
    common = {**COMMON_FIELDS, "fileCreateTime": start.isoformat(timespec="seconds")}
    ap_bin, lf_bin = (_write_imec_band(folder, run, band, seconds, n_channels, seed, common) for band in (AP, LF))
    nidq_bin = _write_nidq(folder, run, seconds, common)
    return SpikeGLXRun(folder, ap_bin, lf_bin, nidq_bin)


def _write_imec_band(
    folder: Path, run: str, band: _Band, seconds: float, n_channels: int, seed: int, common: dict[str, str]
) -> Path:
    """<run>_g0_imec0/<run>_g0_t0.imec0.<band>.bin and .meta: `n_channels` sites then the sync word."""
    gain_uv = RANGE_V / 512 / band.gain * 1e6

    def block(start: int, n: int, i: int) -> np.ndarray:
        sync = square_wave(start + n, band.rate, 1.0, 64)[start:]
        seed_i = seed * 100003 + band.seed_offset + i
        neural = extracellular(n, n_channels, band.rate, gain_uv, seed_i, lfp_only=band is LF)
        return np.column_stack([neural, sync])

    sites = list(range(n_channels))
    first = band.first_channel
    channel_map = "".join(f"({band.prefix}{c};{c + first}:{c + first})" for c in sites) + "(SY0;768:768)"
    name = f"{run}_g0_imec0/{run}_g0_t0.imec0.{band.name}.bin"
    counts = f"{n_channels},0,1" if band is AP else f"0,{n_channels},1"
    fields = {
        **common,
        **IMEC_FIELDS,
        "fileName": f"D:/data/{run}_g0/{name}",
        "firstSample": str(round(T0_S * band.rate)),
        "imSampRate": repr(band.rate),
        "snsApLfSy": counts,
        "snsSaveChanSubset": f"{first}:{first + n_channels - 1},768",
        "~snsChanMap": f"(384,384,1){channel_map}",
        "~snsShankMap": _shank_map(sites),
    }
    bin_path = folder / name
    _write(bin_path, _blocks(round(seconds * band.rate), band.rate, block), fields, band.rate)
    return bin_path


def _write_nidq(folder: Path, run: str, seconds: float, common: dict[str, str]) -> Path:
    """<run>_g0_t0.nidq.bin and .meta: a 2 Hz sine on XA0 and two TTL lines in the digital word."""
    n = round(seconds * NI_RATE)
    t = np.arange(n) / NI_RATE
    analog = np.round(1.5 * np.sin(2 * np.pi * 2.0 * t) / (5.0 / 32768)).astype(np.int16)
    digital = square_wave(n, NI_RATE, 1.0, 1) | square_wave(n, NI_RATE, 0.25, 2)
    bin_path = folder / f"{run}_g0_t0.nidq.bin"
    fields = {
        **common,
        **NIDQ_FIELDS,
        "fileName": f"D:/data/{run}_g0/{run}_g0_t0.nidq.bin",
        "firstSample": str(round(T0_S * NI_RATE)),
    }
    _write(bin_path, iter([np.column_stack([analog, digital])]), fields, NI_RATE)
    return bin_path


# --- runs built around real .meta headers ------------------------------------------------------------

TABLE_KEYS = ("imroTbl", "snsChanMap", "snsShankMap", "snsGeomMap", "muxTbl")  # SpikeGLX writes them as ~key
BLOCK_BYTES = 4 << 20  # one generated block of samples: memory stays small whatever the length


@dataclass(frozen=True)
class RealHeaderRun:
    """A run written around real .meta files: the run folder and each stream's .bin ("imec0.ap" -> path)."""

    folder: Path
    bins: dict[str, Path]


def _meta_lines(path: Path) -> list[tuple[str, str]]:
    """(key, value) in file order; table keys get back the '~' that SpikeGLX writes (some copies lost it)."""
    pairs = []
    for line in path.read_text(errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            key = key.strip()
            pairs.append(("~" + key if key in TABLE_KEYS else key, value))
    return pairs


def _stream_of(fields: dict[str, str], source: Path) -> tuple[str, str]:
    """(original device, band) of a header: ("imec1", "ap"), ("imec", "lf"), ("nidq", "")."""
    if fields.get("typeThis") != "imec":
        return "nidq", ""
    stem = Path(fields.get("fileName", "").replace("\\", "/")).name or source.name
    parts = stem.split(".")
    device = next((p for p in parts if p.startswith("imec")), "imec")
    ap, lf, _ = (int(v) for v in fields.get("snsApLfSy", "1,0,1").split(","))
    band = "lf" if ".lf." in stem or (lf and not ap) else "ap"
    return device, band


def _real_header_block(
    fields: dict[str, str], band: str, rate: float, seed: int
) -> Callable[[int, int, int], np.ndarray]:
    """make(start, n, i): int16 samples for nSavedChans columns, laid out as the header describes."""
    n_saved = int(fields["nSavedChans"])
    if band:  # imec: neural channels then the sync word when snsApLfSy says there is one
        n_sync = int(fields.get("snsApLfSy", "0,0,0").split(",")[2])
        n_neural = n_saved - n_sync
        range_v = float(fields.get("imAiRangeMax", "0.6"))
        max_int = int(fields.get("imMaxInt", "512"))  # 512: NP1.0 (gain per band), else NP2.0 (gain 80)
        amplifier = (LF_GAIN if band == "lf" else AP_GAIN) if max_int == 512 else 80
        gain_uv = range_v / max_int / amplifier * 1e6

        def imec(start: int, n: int, i: int) -> np.ndarray:
            neural = extracellular(n, n_neural, rate, gain_uv, seed * 100003 + i, lfp_only=band == "lf")
            sync = square_wave(start + n, rate, 1.0, 64)[start:]
            return np.column_stack([neural, sync][: 1 + n_sync])

        return imec

    mn, ma, xa, dw = (int(v) for v in fields.get("snsMnMaXaDw", f"0,0,{n_saved},0").split(","))
    n_analog = mn + ma + xa
    range_v = float(fields.get("niAiRangeMax", "5"))

    def nidq(start: int, n: int, i: int) -> np.ndarray:
        t = (start + np.arange(n)) / rate
        analog = [
            np.round(0.3 * range_v * np.sin(2 * np.pi * (k + 1) * t) / (range_v / 32768)) for k in range(n_analog)
        ]
        digital = [square_wave(start + n, rate, 1.0, 1)[start:] | square_wave(start + n, rate, 0.25, 2)[start:]] * dw
        return np.column_stack([*analog, *digital]).astype(np.int16)

    return nidq


def write_spikeglx_from_meta(
    root: Path, metas: list[Path], run: str = "Real", seconds: float = 1.0, seed: int = 0
) -> RealHeaderRun:
    """Write <root>/<run>_g0/ pairing each real .meta with a synthetic .bin of nSavedChans int16 columns.

    The headers are copied line for line; only what describes the binary changes: fileName (the run's
    own layout, which is what neo derives stream names from), fileSizeBytes, fileSHA1 and fileTimeSecs.
    Probes are renumbered imec0, imec1, ... in the order of their original numbers (AP and LF of one
    probe stay together), and table keys get back the '~' SpikeGLX writes. Samples are generated and
    written in blocks of about 4 MB.
    """
    folder = root / f"{run}_g0"
    headers = [(meta, _meta_lines(meta)) for meta in metas]
    devices = sorted({_stream_of(dict(pairs), meta)[0] for meta, pairs in headers} - {"nidq"})
    renumber = {device: f"imec{i}" for i, device in enumerate(devices)}
    bins: dict[str, Path] = {}
    for k, (meta, pairs) in enumerate(headers):
        fields = dict(pairs)
        device, band = _stream_of(fields, meta)
        if band:
            stream = f"{renumber[device]}.{band}"
            bin_path = folder / f"{run}_g0_{renumber[device]}" / f"{run}_g0_t0.{stream}.bin"
        else:
            stream = "nidq"
            bin_path = folder / f"{run}_g0_t0.nidq.bin"
        rate = float(fields.get("imSampRate") or fields["niSampRate"])
        n_saved = int(fields["nSavedChans"])
        n_samples = round(seconds * rate)
        step = max(1, BLOCK_BYTES // (2 * n_saved))
        make = _real_header_block(fields, band, rate, seed * 101 + k)
        blocks = (make(s, min(step, n_samples - s), i) for i, s in enumerate(range(0, n_samples, step)))
        written = _write_bin(bin_path, blocks)
        patched = {
            "fileName": f"D:/data/{bin_path.relative_to(root).as_posix()}",
            "fileSizeBytes": str(written.size),
            "fileSHA1": written.sha1,
            "fileTimeSecs": repr(written.n_samples / rate),
        }
        text = "".join(f"{key}={patched.get(key, value)}\n" for key, value in pairs)
        bin_path.with_suffix(".meta").write_text(text)
        bins[stream] = bin_path
    return RealHeaderRun(folder, bins)


@dataclass(frozen=True)
class _Written:
    size: int
    n_samples: int
    sha1: str


def _write_bin(bin_path: Path, blocks: Iterator[np.ndarray]) -> _Written:
    bin_path.parent.mkdir(parents=True, exist_ok=True)
    sha1 = hashlib.sha1()
    size = n_samples = 0
    with bin_path.open("wb") as f:
        for block in blocks:
            raw = np.ascontiguousarray(block, dtype=np.int16).tobytes()
            f.write(raw)
            sha1.update(raw)
            size += len(raw)
            n_samples += block.shape[0]
    return _Written(size, n_samples, sha1.hexdigest().upper())
