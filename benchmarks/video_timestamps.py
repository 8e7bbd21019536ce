"""Frame times of a behavior video: nwbconvert (packets' time stamps, no decoding) against decoding every frame.

    python benchmarks/video_timestamps.py                       # a 10-minute 30 fps H.264 video, 320 x 240
    python benchmarks/video_timestamps.py --minutes 2 --size 640 480 --repeat 5
    python benchmarks/video_timestamps.py --keep benchmarks/workload/camera.mp4   # written once, then reused

The video is written with PyAV (libx264 with B-frames) in a temporary folder (or at --keep, reused when there).
Three ways to get its frame times: nwbconvert's reader (`readers.behavior.video.open_video`: demux the packets,
sort their pts), PyAV decoding every frame (`frame.time`; what NeuroConv's OpenCV loop amounts to: it reads every
frame to ask its position), and PyAV decoding with FFmpeg's frame threads. Each is timed `--repeat` times
(median, after one unmeasured run: warm page cache); the times must agree. The table is printed and written as
JSON to benchmarks/results/video_timestamps.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def nwbconvert_times(path: Path) -> np.ndarray:
    from nwbconvert.readers.behavior.video import all_times, open_video

    return all_times(open_video(path, "CameraBench"))


def decoded_times(path: Path, threads: bool = False) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if threads:
            stream.thread_type = "AUTO"
        return np.asarray([frame.time for frame in container.decode(stream)], dtype="float64")


def timed(run: Callable[[], np.ndarray], repeat: int) -> tuple[float, np.ndarray]:
    """The median of `repeat` runs, after one unmeasured run (imports, page cache)."""
    seconds, result = [], run()
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--size", type=int, nargs=2, default=(320, 240), metavar=("WIDTH", "HEIGHT"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the video here once and reuse it (its frames: --minutes)")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "video_timestamps.json")
    args = parser.parse_args()

    from nwbconvert.synthetic.video import write_video

    n_frames = round(args.minutes * 60 * args.fps)
    with tempfile.TemporaryDirectory() as scratch:
        path = args.keep or Path(scratch) / "camera.mp4"
        started = time.perf_counter()
        if not path.is_file():
            write_video(path, n_frames, args.fps, tuple(args.size), gop=args.fps * 10)
        written_s = time.perf_counter() - started
        ours_s, ours = timed(lambda: nwbconvert_times(path), args.repeat)
        decode_s, decoded = timed(lambda: decoded_times(path), args.repeat)
        threaded_s, threaded = timed(lambda: decoded_times(path, threads=True), args.repeat)
        size_mb = path.stat().st_size / 1e6
    assert ours.size == decoded.size == threaded.size == n_frames, (ours.size, decoded.size, n_frames)
    assert np.allclose(ours, decoded, atol=1e-9, rtol=0) and np.allclose(ours, threaded, atol=1e-9, rtol=0)
    result = {
        "video": {
            "frames": n_frames,
            "fps": args.fps,
            "size": list(args.size),
            "codec": "h264 (libx264, B-frames)",
            "megabytes": round(size_mb, 2),
            "written_s": round(written_s, 2),
        },
        "repeat": args.repeat,
        "cores": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 1),  # other work on the machine while it ran
        "seconds": {
            "nwbconvert (demux packets)": round(ours_s, 4),
            "PyAV decode every frame": round(decode_s, 4),
            "PyAV decode every frame, threaded": round(threaded_s, 4),
        },
        "speedup_vs_decode": round(decode_s / ours_s, 1),
        "speedup_vs_threaded_decode": round(threaded_s / ours_s, 1),
        "max_difference_s": float(np.max(np.abs(ours - decoded))),
    }
    for name, seconds in result["seconds"].items():
        print(f"{name:<36} {seconds:8.3f} s")
    print(f"nwbconvert is {result['speedup_vs_decode']}x faster than decoding ({n_frames} frames, equal times)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
