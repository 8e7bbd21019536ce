"""A SpikeGLX run (Neuropixels 1.0 imec ap + lf, and nidq) with headers in SpikeGLX's .meta style."""

from __future__ import annotations

import datetime as dt
import hashlib
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
    bin_path.parent.mkdir(parents=True, exist_ok=True)
    sha1 = hashlib.sha1()
    n_samples = n_channels = size = 0
    with bin_path.open("wb") as f:
        for block in blocks:
            raw = np.ascontiguousarray(block, dtype=np.int16).tobytes()
            f.write(raw)
            sha1.update(raw)
            size += len(raw)
            n_samples += block.shape[0]
            n_channels = block.shape[1]
    fields = dict(fields)
    fields["fileSizeBytes"] = str(size)
    fields["fileSHA1"] = sha1.hexdigest().upper()
    fields["fileTimeSecs"] = repr(n_samples / rate)
    fields["nSavedChans"] = str(n_channels)
    bin_path.with_suffix(".meta").write_text(_meta(fields))


def _blocks(n_samples: int, rate: float, make: Callable[[int, int, int], np.ndarray]) -> Iterator[np.ndarray]:
    """make(start, n, block_index) for consecutive one-second blocks: memory stays small for long runs."""
    step = max(1, int(rate))
    for i, start in enumerate(range(0, n_samples, step)):
        yield make(start, min(step, n_samples - start), i)


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
    probe_folder = folder / f"{run}_g0_imec0"
    created = start.isoformat(timespec="seconds")
    common = {
        "appVersion": "20190327",
        "fileCreateTime": created,
        "gateMode": "Immediate",
        "trigMode": "Immediate",
        "syncSourceIdx": "0",
        "syncSourcePeriod": "1",
        "typeImEnabled": "1",
        "typeNiEnabled": "1",
        "userNotes": "synthetic recording written by nwbconvert.synthetic",
    }
    imec = {
        **common,
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
    sites = list(range(n_channels))
    n_ap = round(seconds * AP_RATE)
    ap_gain_uv = RANGE_V / 512 / AP_GAIN * 1e6

    def ap_block(start: int, n: int, i: int) -> np.ndarray:
        sync = square_wave(start + n, AP_RATE, 1.0, 64)[start:]
        return np.column_stack([extracellular(n, n_channels, AP_RATE, ap_gain_uv, seed * 100003 + i), sync])

    ap_bin = probe_folder / f"{run}_g0_t0.imec0.ap.bin"
    ap_map = "".join(f"(AP{c};{c}:{c})" for c in sites) + "(SY0;768:768)"
    _write(
        ap_bin,
        _blocks(n_ap, AP_RATE, ap_block),
        {
            **imec,
            "fileName": f"D:/data/{run}_g0/{run}_g0_imec0/{run}_g0_t0.imec0.ap.bin",
            "firstSample": str(round(T0_S * AP_RATE)),
            "imSampRate": repr(AP_RATE),
            "snsApLfSy": f"{n_channels},0,1",
            "snsSaveChanSubset": f"0:{n_channels - 1},768",
            "~snsChanMap": f"(384,384,1){ap_map}",
            "~snsShankMap": _shank_map(sites),
        },
        AP_RATE,
    )
    n_lf = round(seconds * LF_RATE)
    lf_gain_uv = RANGE_V / 512 / LF_GAIN * 1e6

    def lf_block(start: int, n: int, i: int) -> np.ndarray:
        sync = square_wave(start + n, LF_RATE, 1.0, 64)[start:]
        lfp = extracellular(n, n_channels, LF_RATE, lf_gain_uv, seed * 100003 + 50000 + i, lfp_only=True)
        return np.column_stack([lfp, sync])

    lf_bin = probe_folder / f"{run}_g0_t0.imec0.lf.bin"
    lf_map = "".join(f"(LF{c};{c + 384}:{c + 384})" for c in sites) + "(SY0;768:768)"
    _write(
        lf_bin,
        _blocks(n_lf, LF_RATE, lf_block),
        {
            **imec,
            "fileName": f"D:/data/{run}_g0/{run}_g0_imec0/{run}_g0_t0.imec0.lf.bin",
            "firstSample": str(round(T0_S * LF_RATE)),
            "imSampRate": repr(LF_RATE),
            "snsApLfSy": f"0,{n_channels},1",
            "snsSaveChanSubset": f"384:{384 + n_channels - 1},768",
            "~snsChanMap": f"(384,384,1){lf_map}",
            "~snsShankMap": _shank_map(sites),
        },
        LF_RATE,
    )
    n_ni = round(seconds * NI_RATE)
    t = np.arange(n_ni) / NI_RATE
    analog = np.round(1.5 * np.sin(2 * np.pi * 2.0 * t) / (5.0 / 32768)).astype(np.int16)
    digital = square_wave(n_ni, NI_RATE, 1.0, 1) | square_wave(n_ni, NI_RATE, 0.25, 2)
    nidq_bin = folder / f"{run}_g0_t0.nidq.bin"
    _write(
        nidq_bin,
        iter([np.column_stack([analog, digital])]),
        {
            **common,
            "acqMnMaXaDw": "0,0,1,1",
            "fileName": f"D:/data/{run}_g0/{run}_g0_t0.nidq.bin",
            "firstSample": str(round(T0_S * NI_RATE)),
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
        },
        NI_RATE,
    )
    return SpikeGLXRun(folder, ap_bin, lf_bin, nidq_bin)
