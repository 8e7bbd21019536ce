"""Damaged TIFF movies: what tifffile logs as it reads past a damaged page directory stays off stderr and becomes a
plain-words refusal (readers/ophys/base.py tifffile_complaints / tiff_damage / tiff_checked), also for frames read
while the movie is written (writer/frames.py read_frames)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from conftest import realdata
from nwbconvert.errors import SourceError
from nwbconvert.imaging import FrameTimes, Movie
from nwbconvert.readers.ophys.base import tiff_checked, tiff_damage, tifffile_complaints
from nwbconvert.writer.frames import read_frames

EXCEPTION_NAME = re.compile(r"\b[A-Z][a-zA-Z]*(Error|Exception)\b|Traceback")
BIGTIFF = "ophys/tiff/ideas_toolbox/movie_part2_108x123x63.tiff"


def _flipped_bigtiff(tmp_path: Path) -> Path:
    """The real BigTIFF with the type of page 0's Orientation and RowsPerStrip tags broken (its IFD is at 53152)."""
    import tifffile

    data = bytearray(realdata(BIGTIFF).read_bytes())
    with tifffile.TiffFile(realdata(BIGTIFF)) as tif:
        tags = {tag.code: tag.offset for tag in tif.pages.first.tags.values()}
    for code in (274, 278):
        data[tags[code] + 2] = 207  # the tag's type: not a TIFF type
    copy = tmp_path / "movie.tiff"
    copy.write_bytes(bytes(data))
    return copy


def test_tifffile_complaints_stay_off_stderr_and_are_said_in_plain_words(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    import tifffile

    copy = _flipped_bigtiff(tmp_path)
    with tifffile_complaints() as said, tifffile.TiffFile(copy, _multifile=False) as tif:
        assert len(tif.pages) == 63
    assert said and all(r.name == "tifffile" for r in said)
    assert "TiffFileError" not in capfd.readouterr().err
    damage = tiff_damage(said)
    assert damage is not None and damage.startswith("its page directories (TIFF IFDs) are damaged or cut short")
    assert "the first at byte 53" in damage and not EXCEPTION_NAME.search(damage)
    with pytest.raises(SourceError, match="copy the file again") as refused, tiff_checked(copy):
        tifffile.TiffFile(copy, _multifile=False).close()
    assert str(copy) in str(refused.value) and not EXCEPTION_NAME.search(str(refused.value))


def test_an_undamaged_tiff_has_no_complaint() -> None:
    import tifffile

    movie = realdata(BIGTIFF)
    with tiff_checked(movie), tifffile_complaints() as said, tifffile.TiffFile(movie, _multifile=False) as tif:
        frame = tif.pages[62].asarray()
    assert frame.shape == (123, 108) and said == [] and tiff_damage(said) is None


def test_frames_read_past_a_damaged_page_directory_while_writing_are_refused(tmp_path: Path) -> None:
    """A page whose directory tifffile parses only when its frame is read (page 2 of 3): read_frames refuses it."""
    import tifffile

    from nwbconvert.readers.ophys.tiff import TiffPages

    path = tmp_path / "three.tif"
    tifffile.imwrite(path, np.arange(3 * 8 * 6, dtype="uint16").reshape(3, 8, 6), photometric="minisblack")
    with tifffile.TiffFile(path) as tif:
        offset = next(t.offset for t in tif.pages[2].tags.values() if t.code == 262)  # Photometric
    data = bytearray(path.read_bytes())
    data[offset + 2] = 207
    path.write_bytes(bytes(data))
    pages = TiffPages((path,), np.zeros(3, dtype=int), np.arange(3), (8, 6), np.dtype("uint16"))
    movie = Movie("TwoPhotonSeriesPlane0Channel0", "Plane0", "Channel0", pages, FrameTimes(rate_hz=10.0))
    assert read_frames(movie, 0, 2).shape == (2, 6, 8)
    with pytest.raises(SourceError, match=r"Reading frames 2-3 of TwoPhotonSeriesPlane0Channel0") as refused:
        read_frames(movie, 2, 3)
    message = str(refused.value)
    assert "page directories (TIFF IFDs) are damaged" in message and not EXCEPTION_NAME.search(message)
    pages.close()
