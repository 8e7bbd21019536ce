"""nwbconvert: convert neurophysiology recordings to DANDI-ready NWB files with one command.

Public API (imported lazily so that `nwbconvert --help` stays instant):
`detect`, `read_session`, `convert`, `ConvertOptions`, `__version__`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str
    from nwbconvert.options import ConvertOptions
    from nwbconvert.pipeline import convert, read_session
    from nwbconvert.readers.registry import detect

__all__ = ["ConvertOptions", "__version__", "convert", "detect", "read_session"]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from nwbconvert.versions import installed_version

        return installed_version("nwbconvert") or "0.0.0+unknown"  # None: a source tree that was not installed
    if name == "ConvertOptions":
        from nwbconvert.options import ConvertOptions

        return ConvertOptions
    if name in ("convert", "read_session"):
        from nwbconvert import pipeline

        return getattr(pipeline, name)
    if name == "detect":
        from nwbconvert.readers.registry import detect

        return detect
    raise AttributeError(name)
