"""An Inscopix cell set (.isxd), written with Inscopix's own `isx` package (isx.CellSet.write): per cell a float32
footprint image (rows, columns), a float32 trace and a name, the timing and the spacing in the file's JSON footer."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_inscopix_cellset(
    path: Path, n_cells: int = 3, n_frames: int = 20, height: int = 24, width: int = 32, period_ms: int = 50
) -> Path:
    """Write `path`; cell i is a 4 × 4 blob, named C00, C01, …; cell 1 is rejected, the others accepted."""
    import isx

    rng = np.random.default_rng(5)
    timing = isx.Timing(num_samples=n_frames, period=isx.Duration.from_msecs(period_ms))
    cells = isx.CellSet.write(str(path), timing, isx.Spacing(num_pixels=(height, width)))
    for i in range(n_cells):
        image = np.zeros((height, width), np.float32)
        y, x = (3 * i) % (height - 4), (5 * i) % (width - 4)
        image[y : y + 4, x : x + 4] = rng.random((4, 4)).astype(np.float32) + 0.1
        cells.set_cell_data(i, image, (rng.random(n_frames) * 10).astype(np.float32), f"C{i:02d}")
    for i in range(n_cells):
        cells.set_cell_status(i, "rejected" if i == 1 else "accepted")
    cells.flush()
    return path
