"""Damaged TIFF movies: what tifffile logs as it reads past a damaged page directory stays off stderr and becomes a
plain-words refusal (readers/ophys/base.py tifffile_complaints / tiff_damage / tiff_checked), also for frames read
while the movie is written (writer/frames.py read_frames)."""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import realdata
from nwbconvert.errors import SourceError
from nwbconvert.imaging import FrameTimes, Movie, TraceKind
from nwbconvert.readers.ophys.base import tiff_checked, tiff_damage, tifffile_complaints
from nwbconvert.writer.frames import read_frames

EXCEPTION_NAME = re.compile(r"\b[A-Z][a-zA-Z]*(Error|Exception)\b|Traceback")
BIGTIFF = "ophys/tiff/ideas_toolbox/movie_part2_108x123x63.tiff"
SI38 = "ophys/scanimage/jefferis_si38/Blank-IPA_1s_16r_032.tif"
SUITE2P = "ophys/suite2p/fissa_example"


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


def _read(path: Path, allow_incomplete: bool = False) -> Any:
    from nwbconvert.options import ConvertOptions
    from nwbconvert.pipeline import read_session

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_session(path, ConvertOptions(allow_incomplete=allow_incomplete))


def test_a_suite2p_plane_without_its_raw_traces_is_a_shortfall(tmp_path: Path) -> None:
    """roiextractors skips a missing F.npy silently: the raw fluorescence would be lost with exit 0."""
    shutil.copytree(realdata(SUITE2P), tmp_path / "fissa")
    (tmp_path / "fissa" / "suite2p" / "plane0" / "F.npy").unlink()
    with pytest.raises(SourceError, match=r"copy looks incomplete: the traces of plane0's channel 1") as refused:
        _read(tmp_path / "fissa")
    assert "found no F.npy" in str(refused.value) and "--allow-incomplete" in str(refused.value)
    session = _read(tmp_path / "fissa", allow_incomplete=True)
    (note,) = session.notes
    assert note.what == "incomplete" and note.found == "no F.npy"
    (seg,) = session.imaging.segmentations
    assert {t.kind for t in seg.traces} == {TraceKind.NEUROPIL, TraceKind.DECONVOLVED} and seg.n_rois == 23


@pytest.mark.parametrize(
    ("removed", "found"),
    [(("Fneu_chan2.npy",), "no Fneu_chan2.npy"), (("F_chan2.npy", "Fneu_chan2.npy"), "no F_chan2.npy, Fneu_chan2.npy")],
)
def test_a_suite2p_second_channel_without_its_traces_is_a_shortfall(
    tmp_path: Path, removed: tuple[str, ...], found: str
) -> None:
    """Channel 2's traces are expected where another of its files is, or where ops.npy says nchannels 2."""
    from nwbconvert.synthetic.ophys_suite2p import write_suite2p_folder

    root = write_suite2p_folder(tmp_path, n_planes=1, two_channels=True)
    for name in removed:
        (root / "plane0" / name).unlink()
    with pytest.raises(SourceError, match=rf"the traces of plane0's channel 2: expected F_chan2.npy, Fneu_chan2.npy, "
                       rf"found {found}"):  # fmt: skip
        _read(root)
    session = _read(root, allow_incomplete=True)
    assert [n.found for n in session.notes] == [found]
    assert len(session.imaging.segmentations) == 1 + (len(removed) == 1)


def test_a_damaged_tiff_is_probed_in_silence_and_refused_in_plain_words(tmp_path: Path) -> None:
    """Page 0's directory damaged: tifffile logged `<TiffTag.fromfile> raised TiffFileError(...)` to stderr while the
    reader was picked, then the movie converted (exit 0)."""
    from cli_runner import nwbconvert
    from nwbconvert.readers.ophys.tiff import tiff_head
    from nwbconvert.readers.registry import detect

    copy = _flipped_bigtiff(tmp_path)
    assert tiff_head(copy) is not None and detect(copy).name == "tiff"
    with pytest.raises(SourceError, match=r"page directories \(TIFF IFDs\) are damaged") as refused:
        _read(copy)
    message = str(refused.value)
    assert message.startswith(f"{copy}: ") and "copy the file again" in message and not EXCEPTION_NAME.search(message)
    result = nwbconvert("convert", copy, "--dry-run")
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.strip() == f"Error: {message}" and "raised" not in result.stderr


def test_a_damaged_tiff_cut_short_goes_the_allow_incomplete_route(tmp_path: Path) -> None:
    copy = _flipped_bigtiff(tmp_path)
    data = copy.read_bytes()
    copy.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match="the copy looks incomplete: its pages"):
        _read(copy)
    session = _read(copy, allow_incomplete=True)
    (movie,) = session.imaging.movies
    import tifffile

    with tifffile.TiffFile(realdata(BIGTIFF)) as tif:
        expected = np.stack([tif.pages[i].asarray() for i in range(movie.frames.shape[0])])
    assert 0 < movie.frames.shape[0] < 63 and session.notes[0].what == "incomplete"
    np.testing.assert_array_equal(movie.frames.read(0, movie.frames.shape[0]), np.swapaxes(expected, 1, 2))


def test_a_scanimage_page_whose_directory_was_cut_is_not_passed_as_a_blank_frame(tmp_path: Path) -> None:
    """The last 1 % cut from the ScanImage 3.8 file takes page 29's data-offset tag: ScanImageTiffReader reads that
    frame as zeros. It is a shortfall of one page, and --allow-incomplete keeps the 29 whole ones."""
    import tifffile

    data = realdata(SI38).read_bytes()
    copy = tmp_path / "Blank-IPA_1s_16r_032.tif"
    copy.write_bytes(data[: len(data) * 99 // 100])
    with tifffile.TiffFile(copy) as tif:  # the oracle: tifffile sees 30 pages, the last without data offsets
        assert len(tif.pages) == 30 and tuple(tif.pages[29].dataoffsets) == ()
        expected = np.stack([tif.pages[i].asarray() for i in range(29)])
    with pytest.raises(SourceError, match=r"expected 30 pages or more .*found 29 whole pages"):
        _read(copy)
    session = _read(copy, allow_incomplete=True)
    (movie,) = session.imaging.movies
    assert movie.frames.shape[0] == 29 and session.notes[0].found == "29 whole pages"
    frames = movie.frames.read(0, 29)
    assert all(frame.any() for frame in frames)
    np.testing.assert_array_equal(frames, np.swapaxes(expected, 1, 2))


def test_whole_pages_needs_data_offsets_whose_byte_counts_cover_the_page_inside_the_file(tmp_path: Path) -> None:
    import tifffile

    from nwbconvert.readers.ophys.tiff_whole import whole_pages

    path = tmp_path / "four.tif"
    tifffile.imwrite(path, np.ones((4, 8, 6), dtype="uint16"), photometric="minisblack", contiguous=False)
    with tifffile.TiffFile(path) as tif:
        assert whole_pages(tif, 4, None) == (4, 4)
        last = tif.pages[3]
        counts = next(t for t in last.tags.values() if t.code == 279)  # StripByteCounts
        offsets = next(t for t in last.tags.values() if t.code == 273)  # StripOffsets
        where = {"counts": counts.valueoffset, "offsets": offsets.offset}
    for damage, write in (("counts", (40).to_bytes(4, "little")), ("offsets", b"\0\0")):
        broken = bytearray(path.read_bytes())
        broken[where[damage] : where[damage] + len(write)] = write  # 40 of the page's 96 bytes; no offsets tag
        (tmp_path / f"{damage}.tif").write_bytes(bytes(broken))
        with tifffile_complaints(), tifffile.TiffFile(tmp_path / f"{damage}.tif") as tif:
            assert whole_pages(tif, 4, None) == (3, 4), damage


def test_explain_says_what_a_damaged_npy_header_or_pickle_is_and_honours_raise_from_none(tmp_path: Path) -> None:
    import pickle

    from nwbconvert.readers.plain import explain

    path = tmp_path / "F.npy"
    np.save(path, np.arange(10.0))
    data = bytearray(path.read_bytes())
    data[20:40] = b"\x07" * 20
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="Cannot parse header") as npy:
        np.load(path)
    said = explain(npy.value, path)
    assert said == "the file is a .npy array whose header is damaged: numpy cannot tell its type and shape"
    with pytest.raises(pickle.UnpicklingError, match="invalid load key") as pickled:
        pickle.loads(b"\x07garbage")
    assert "a damaged pickled file" in explain(pickled.value, path)

    def pages() -> None:  # as tifffile's TiffPages.__getitem__: a KeyError replaced by IndexError(0) from None
        try:
            {}[0]
        except KeyError:
            raise IndexError(0) from None

    with pytest.raises(IndexError) as suppressed:
        pages()
    assert "has no field" not in explain(suppressed.value, path)
