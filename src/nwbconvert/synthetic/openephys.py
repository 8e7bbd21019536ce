"""An Open Ephys binary recording (GUI 0.6 layout): one acquisition board stream plus TTL events."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nwbconvert.synthetic.signals import extracellular

RATE = 30000.0
BIT_VOLTS = 0.195
ADC_BIT_VOLTS = 0.00015258789
SOURCE = "Acquisition_Board-100.Rhythm Data"
FIRST_SAMPLE = 91200  # the GUI starts counting before recording starts


@dataclass(frozen=True)
class OpenEphysRun:
    folder: Path  # the session folder holding "Record Node 101"
    recording: Path  # .../experiment1/recording1
    ttl_sample_numbers: np.ndarray
    ttl_states: np.ndarray


def _channel(name: str, bit_volts: float, units: str, description: str) -> dict[str, object]:
    return {
        "channel_name": name,
        "description": description,
        "identifier": "genericdata.continuous",
        "history": "Acquisition Board -> Record Node",
        "bit_volts": bit_volts,
        "units": units,
    }


def _settings_xml(start: dt.datetime, n_channels: int) -> str:
    date = start.strftime("%d %b %Y %H:%M:%S").lstrip("0")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\r\n\r\n<SETTINGS>\r\n  <INFO>\r\n'
        "    <VERSION>0.6.7</VERSION>\r\n    <PLUGIN_API_VERSION>8</PLUGIN_API_VERSION>\r\n"
        f"    <DATE>{date}</DATE>\r\n    <OS>Linux</OS>\r\n  </INFO>\r\n  <SIGNALCHAIN>\r\n"
        '    <PROCESSOR name="Acquisition Board" insertionPoint="0" pluginName="Acquisition Board"'
        ' type="4" index="0" libraryName="Rhythm Plugins" libraryVersion="0.2.6" processorType="2"'
        ' nodeId="100">\r\n'
        f'      <STREAM name="Rhythm Data" description="Intan headstage data" sample_rate="{RATE}"'
        f' channel_count="{n_channels + 2}"/>\r\n    </PROCESSOR>\r\n  </SIGNALCHAIN>\r\n</SETTINGS>\r\n'
    )


def write_openephys_binary(
    root: Path,
    seconds: float = 3.0,
    n_channels: int = 16,
    start: dt.datetime = dt.datetime(2026, 1, 15, 10, 0, 0, tzinfo=dt.timezone.utc),
    seed: int = 1,
) -> OpenEphysRun:
    """Write <root>/<date>/Record Node 101/experiment1/recording1 with 16 CH + 2 ADC channels and TTLs."""
    folder = root / start.strftime("%Y-%m-%d_%H-%M-%S")
    node = folder / "Record Node 101"
    rec = node / "experiment1" / "recording1"
    _write_continuous(rec / "continuous" / SOURCE, seconds, n_channels, seed)
    ttl_samples, states = _write_ttl(rec / "events" / SOURCE / "TTL", seconds)
    (rec / "structure.oebin").write_text(json.dumps(_structure(n_channels), indent=2))
    epoch_ms = int(start.timestamp() * 1000)
    (rec / "sync_messages.txt").write_text(
        f"Software Time (milliseconds since midnight Jan 1st 1970 UTC): {epoch_ms}\r\n"
        f"Start Time for Acquisition Board (100) - Rhythm Data @ {int(RATE)} Hz: {FIRST_SAMPLE}\r\n"
    )
    (node / "settings.xml").write_text(_settings_xml(start, n_channels), newline="")
    return OpenEphysRun(folder, rec, ttl_samples, states)


def _write_continuous(cont: Path, seconds: float, n_channels: int, seed: int) -> None:
    """continuous.dat (`n_channels` headstage channels, then two ADC sines), sample_numbers and timestamps."""
    cont.mkdir(parents=True, exist_ok=True)
    n = round(seconds * RATE)
    neural = extracellular(n, n_channels, RATE, BIT_VOLTS, seed)
    t = np.arange(n) / RATE
    adc = np.column_stack([np.round(2.0 * np.sin(2 * np.pi * f * t) / ADC_BIT_VOLTS) for f in (1.0, 3.0)]).astype(
        np.int16
    )
    np.ascontiguousarray(np.column_stack([neural, adc]), dtype=np.int16).tofile(cont / "continuous.dat")
    sample_numbers = np.arange(FIRST_SAMPLE, FIRST_SAMPLE + n, dtype=np.int64)
    np.save(cont / "sample_numbers.npy", sample_numbers)
    np.save(cont / "timestamps.npy", sample_numbers / RATE)


def _write_ttl(ttl: Path, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """The TTL folder: line 1 a 10 ms pulse every 500 ms, line 2 50 ms pulses every 700 ms; (samples, states)."""
    on1 = np.arange(0.25, seconds - 0.1, 0.5)
    on2 = np.arange(0.40, seconds - 0.1, 0.7)
    events = sorted(
        [(s, 1, +1) for s in on1]
        + [(s + 0.010, 1, -1) for s in on1]
        + [(s, 2, +1) for s in on2]
        + [(s + 0.050, 2, -1) for s in on2]
    )
    ttl_samples = np.array([FIRST_SAMPLE + round(s * RATE) for s, _, _ in events], dtype=np.int64)
    states = np.array([line * sign for _, line, sign in events], dtype=np.int16)
    words = np.zeros(len(events), dtype=np.uint64)
    level = 0
    for i, (_, line, sign) in enumerate(events):
        level = level | (1 << (line - 1)) if sign > 0 else level & ~(1 << (line - 1))
        words[i] = level
    ttl.mkdir(parents=True, exist_ok=True)
    np.save(ttl / "sample_numbers.npy", ttl_samples)
    np.save(ttl / "timestamps.npy", ttl_samples / RATE)
    np.save(ttl / "states.npy", states)
    np.save(ttl / "full_words.npy", words)
    return ttl_samples, states


def _structure(n_channels: int) -> dict[str, object]:
    """structure.oebin: the board's continuous stream (CH1.. in uV, ADC1-2 in V) and its TTL events."""
    channels = [_channel(f"CH{i + 1}", BIT_VOLTS, "uV", "Headstage data channel") for i in range(n_channels)]
    channels += [_channel(f"ADC{i + 1}", ADC_BIT_VOLTS, "V", "ADC data channel") for i in range(2)]
    return {
        "GUI version": "0.6.7",
        "continuous": [
            {
                "folder_name": f"{SOURCE}/",
                "sample_rate": RATE,
                "source_processor_name": "Acquisition Board",
                "source_processor_id": 100,
                "stream_name": "Rhythm Data",
                "recorded_processor": "Record Node",
                "recorded_processor_id": 101,
                "num_channels": len(channels),
                "channels": channels,
            }
        ],
        "events": [
            {
                "folder_name": f"{SOURCE}/TTL/",
                "channel_name": "Rhythm Data TTL Input",
                "description": "TTL inputs of the acquisition board",
                "identifier": "acq-board.rhythm.ttl",
                "sample_rate": RATE,
                "type": "int16",
                "source_processor": "Acquisition Board",
                "stream_name": "Rhythm Data",
                "initial_state": 0,
            }
        ],
        "spikes": [],
    }
