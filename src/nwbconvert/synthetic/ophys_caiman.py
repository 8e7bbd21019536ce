"""A CaImAn result in the layout `cnm.save(path)` writes (CaImAn's save_dict_to_hdf5 of the CNMF object): groups
`estimates` (A as a CSC sparse matrix's data/indices/indptr/shape, pixels flattened in Fortran order; C, S, YrA,
F_dff (components x frames); b (pixels x background components), f; Cn; SNR_comp, r_values, cnn_preds,
idx_components, idx_components_bad; per-component bl, c1, neurons_sn) and `params` (data: fr, dims; init:
center_psf). Fields CaImAn did not compute are saved as the string 'NoneType', as CaImAn saves None."""

from __future__ import annotations

from pathlib import Path

import numpy as np

NONE = np.bytes_(b"NoneType")


def write_caiman_hdf5(
    path: Path,
    n_rois: int = 4,
    n_frames: int = 30,
    height: int = 20,
    width: int = 28,
    rate: float = 15.0,
    rejected: tuple[int, ...] = (1,),
    one_photon: bool = False,
) -> Path:
    """Write `path`; the components in `rejected` are in idx_components_bad, the others in idx_components."""
    import h5py
    from scipy.sparse import csc_matrix

    rng = np.random.default_rng(6)
    footprints = np.zeros((height * width, n_rois))
    for i in range(n_rois):
        image = np.zeros((height, width))
        y, x = int(rng.integers(0, height - 4)), int(rng.integers(0, width - 4))
        image[y : y + 4, x : x + 4] = rng.random((4, 4)) + 0.1
        footprints[:, i] = image.ravel(order="F")
    sparse = csc_matrix(footprints)
    accepted = [i for i in range(n_rois) if i not in rejected]
    with h5py.File(path, "w") as f:
        est = f.create_group("estimates")
        group = est.create_group("A")
        for name, value in (("data", sparse.data), ("indices", sparse.indices), ("indptr", sparse.indptr)):
            group[name] = value
        group["shape"] = np.array(sparse.shape, dtype="int64")
        for name in ("C", "S", "YrA", "F_dff"):
            est[name] = rng.random((n_rois, n_frames)) * 10
        est["b"] = rng.random((height * width, 1))
        est["f"] = rng.random((1, n_frames))
        est["Cn"] = rng.random((height, width))
        for name in ("SNR_comp", "r_values", "cnn_preds", "bl", "c1", "neurons_sn"):
            est[name] = rng.random(n_rois)
        est["idx_components"] = np.array(accepted, dtype="int64")
        est["idx_components_bad"] = np.array(rejected, dtype="int64")
        est["dims"] = np.array([height, width], dtype="int64")
        est["W"] = NONE
        data = f.create_group("params/data")
        data["fr"] = rate
        data["dims"] = np.array([height, width], dtype="int64")
        data["decay_time"] = 0.4
        f["params/init/center_psf"] = one_photon
        f["dims"] = np.array([height, width], dtype="int64")
    return path
