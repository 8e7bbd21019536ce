"""Trial tables, other interval tables and behavioral signals as labs save them: CSV / TSV / Parquet, one header
row (tests read them back with pandas as the oracle)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_trials(path: Path, n: int = 40, start: str = "t_on", stop: str = "t_off", seed: int = 0) -> Path:
    """A trials table whose start and stop columns have the lab's own names (`start`, `stop`), and one column of
    each kind: true/false, whole numbers, numbers with gaps, text, whole numbers with gaps (NaN). TSV when
    `path` ends in .tsv."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    begin = np.round(2.0 + np.cumsum(rng.uniform(2.0, 4.0, n)), 6)
    frame = pd.DataFrame(
        {
            "trial": np.arange(1, n + 1),
            start: begin,
            stop: np.round(begin + rng.uniform(0.5, 1.5, n), 6),
            "correct": rng.random(n) > 0.3,
            "choice": rng.choice([-1, 1], n),
            "contrast": np.where(rng.random(n) > 0.2, rng.choice([0.0, 0.125, 0.25, 1.0], n), np.nan),
            "stimulus": rng.choice(["grating", "noise", "blank"], n),
            "block": pd.array(np.where(rng.random(n) > 0.1, rng.integers(1, 4, n), -1)).astype("Int64"),
        }
    )
    frame.loc[frame["block"] == -1, "block"] = pd.NA
    frame.to_csv(path, sep="\t" if path.suffix == ".tsv" else ",", index=False)
    return path


def write_epochs(path: Path, n: int = 6) -> Path:
    """A table of stimulus epochs with the usual start_time / stop_time columns (not trials)."""
    import pandas as pd

    begin = np.arange(n) * 60.0
    names = np.array(["gray", "drifting_gratings", "natural_movie"])[np.arange(n) % 3]
    frame = pd.DataFrame(
        {"start_time": begin, "stop_time": begin + 55.5, "stimulus_name": names, "repeat": np.arange(n)}
    )
    frame.to_csv(path, index=False)
    return path


def write_wheel(path: Path, rate_hz: float = 1000.0, seconds: float = 5.0, t0: float = 1.25) -> Path:
    """Wheel position (rad) sampled at a constant rate: columns `times`, `position` (time stamps to 6 decimals)."""
    import pandas as pd

    n = int(rate_hz * seconds)
    times = np.round(t0 + np.arange(n) / rate_hz, 6)
    position = np.cumsum(np.random.default_rng(1).normal(0, 0.01, n))
    pd.DataFrame({"times": times, "position": position}).to_csv(path, index=False)
    return path


def write_licks(path: Path, n: int = 200, seed: int = 2) -> Path:
    """Lick times alone (irregular): one column `times`."""
    import pandas as pd

    times = np.round(np.sort(np.random.default_rng(seed).uniform(0.0, 120.0, n)), 6)
    pd.DataFrame({"times": times}).to_csv(path, index=False)
    return path


def write_running_speed(path: Path, n: int = 3000, seed: int = 3) -> Path:
    """Running speed on a camera's jittery clock: columns `timestamps`, `speed (cm/s)`, and pupil diameter."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    times = np.round(0.5 + np.cumsum(rng.uniform(0.030, 0.037, n)), 6)
    frame = pd.DataFrame(
        {"timestamps": times, "speed (cm/s)": np.abs(rng.normal(10, 4, n)), "pupil_diameter": rng.normal(30, 2, n)}
    )
    frame.to_csv(path, index=False)
    return path


def write_body_position(path: Path, n: int = 500, rate_hz: float = 30.0) -> Path:
    """An animal's x and y (pixels) at a constant rate, as a Parquet table: columns `t`, `x`, `y`."""
    import pandas as pd

    t = np.arange(n) / rate_hz
    angle = np.linspace(0, 4 * np.pi, n)
    pd.DataFrame({"t": t, "x": 320 + 100 * np.cos(angle), "y": 240 + 80 * np.sin(angle)}).to_parquet(path)
    return path
