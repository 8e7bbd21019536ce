"""A Neuroscope / Klusters session: NAME.xml (parameters, anatomical groups) and NAME.dat (int16 samples)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nwbconvert.synthetic.signals import extracellular

RATE = 20000.0
VOLTAGE_RANGE_V = 20.0
AMPLIFICATION = 1000.0


def _xml(n_channels: int, groups: list[list[int]]) -> str:
    group_xml = "".join(
        "      <group>\n" + "".join(f'        <channel skip="0">{c}</channel>\n' for c in g) + "      </group>\n"
        for g in groups
    )
    return (
        '<?xml version="1.0"?>\n<parameters version="1.0" creator="ndManager-1.2.1">\n'
        " <acquisitionSystem>\n  <nBits>16</nBits>\n"
        f"  <nChannels>{n_channels}</nChannels>\n  <samplingRate>{RATE:g}</samplingRate>\n"
        f"  <voltageRange>{VOLTAGE_RANGE_V:g}</voltageRange>\n  <amplification>{AMPLIFICATION:g}</amplification>\n"
        "  <offset>0</offset>\n </acquisitionSystem>\n"
        " <fieldPotentials>\n  <lfpSamplingRate>1250</lfpSamplingRate>\n </fieldPotentials>\n"
        f" <anatomicalDescription>\n  <channelGroups>\n{group_xml}  </channelGroups>\n </anatomicalDescription>\n"
        "</parameters>\n"
    )


def write_neuroscope(folder: Path, name: str = "session", seconds: float = 1.0, n_channels: int = 8) -> Path:
    """Writes NAME.xml and NAME.dat (two shanks of n_channels/2) into `folder`; returns the .dat path."""
    folder.mkdir(parents=True, exist_ok=True)
    half = n_channels // 2
    groups = [list(range(half)), list(range(half, n_channels))]
    (folder / f"{name}.xml").write_text(_xml(n_channels, groups))
    gain_uv = VOLTAGE_RANGE_V * 1e6 / 2**16 / AMPLIFICATION
    data = extracellular(round(seconds * RATE), n_channels, RATE, gain_uv, seed=12)
    data.astype("<i2").tofile(folder / f"{name}.dat")
    return folder / f"{name}.dat"


def neuroscope_samples(dat: Path, n_channels: int) -> np.ndarray:
    return np.fromfile(dat, dtype="<i2").reshape(-1, n_channels)
