"""Writer: H.264 round trip of the real sample video with its audio, trimmed ranges in sync
(checked on the audio's loudness envelope), mp3 sources, odd sizes, nothing half-written."""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from faceswap.errors import UserError
from faceswap.video import VideoWriter, open_reader

TEST_PRESET = "ultrafast"  # the preset changes speed, not what is checked here
ROUND_TRIP_PRESET = "superfast"  # keeps B-frames (ultrafast has none), so reordered timestamps are covered
ENVELOPE_HOP_S = 0.001


def transcode(source: Path, target: Path, start: int = 0, end: int | None = None, audio: bool = True,
              preset: str = TEST_PRESET) -> None:
    with open_reader(source, start=start, end=end) as reader:
        info = reader.info
        with VideoWriter(target, info.width, info.height, info.fps, preset=preset,
                         audio_from=source if audio else None, audio_start=start / info.fps) as writer:
            for frame in reader:
                writer.write(frame.image)


def stream_seconds(path: Path, kind: str) -> float:
    with av.open(str(path)) as container:
        stream = getattr(container.streams, kind)[0]
        return float(stream.duration * stream.time_base)


def decoded_audio_mono(path: Path) -> tuple[np.ndarray, int]:
    """All samples of the first audio track, channels averaged, from the decoder's first pts."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        chunks = []
        for frame in container.decode(stream):
            samples = frame.to_ndarray().reshape(len(frame.layout.channels), -1)  # decoders here give planar
            chunks.append(samples.mean(axis=0))
        return np.concatenate(chunks), stream.sample_rate


def rms_envelope(samples: np.ndarray, rate: int) -> np.ndarray:
    hop = int(rate * ENVELOPE_HOP_S)
    count = len(samples) // hop
    return np.sqrt((samples[: count * hop].reshape(count, hop) ** 2).mean(axis=1))


@pytest.fixture(scope="module")
def wolfgang_round_trip(asset, tmp_path_factory):
    target = tmp_path_factory.mktemp("round_trip") / "wolfgang.mp4"
    transcode(asset("video_wolfgang"), target, preset=ROUND_TRIP_PRESET)
    return target


def test_round_trip_keeps_frames_rate_and_audio(wolfgang_round_trip, asset):
    assert [p.name for p in wolfgang_round_trip.parent.iterdir()] == ["wolfgang.mp4"]  # no temp file left
    with open_reader(wolfgang_round_trip) as reader:
        info = reader.info
        decoded = sum(1 for _ in reader)
    with open_reader(asset("video_wolfgang")) as source:
        source_info = source.info
    assert decoded == info.frame_count == 472
    assert info.fps == pytest.approx(source_info.fps, abs=1e-9)
    assert (info.width, info.height, info.has_audio) == (640, 360, True)
    with av.open(str(wolfgang_round_trip)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p"
        assert container.streams.audio[0].codec_context.name == "aac"
    video_seconds = stream_seconds(wolfgang_round_trip, "video")
    assert video_seconds == pytest.approx(472 / source_info.fps, abs=0.01)
    assert stream_seconds(wolfgang_round_trip, "audio") == pytest.approx(video_seconds, abs=0.05)


def test_round_trip_pictures_match_the_source(wolfgang_round_trip, asset):
    picks = {0, 120, 240}
    with open_reader(asset("video_wolfgang"), end=241) as source, open_reader(wolfgang_round_trip, end=241) as output:
        errors = [np.abs(a.image.astype(np.int16) - b.image).mean()
                  for a, b in zip(source, output) if a.index in picks]
    assert len(errors) == 3 and max(errors) < 3.0  # CRF 18: close; biased colour conversion or a frame shift would exceed it


def test_trimmed_range_has_trimmed_audio(asset, tmp_path):
    target = tmp_path / "trimmed.mp4"
    transcode(asset("video_wolfgang"), target, start=100, end=250)
    with open_reader(target) as reader:
        assert sum(1 for _ in reader) == 150
    video_seconds = stream_seconds(target, "video")
    assert video_seconds == pytest.approx(150 * 1001 / 24000, abs=0.01)
    assert stream_seconds(target, "audio") == pytest.approx(video_seconds, abs=0.05)


def test_trimmed_audio_is_the_matching_window_of_the_source(asset, tmp_path):
    """The sample video's audio is digital silence, so sync is checked on no_face.mp4's real
    audio: the output's loudness envelope must line up with the source's at the range start."""
    source = asset("video_no_face")
    target = tmp_path / "window.mp4"
    start, end = 30, 80
    transcode(source, target, start=start, end=end)
    source_samples, rate = decoded_audio_mono(source)
    output_samples, output_rate = decoded_audio_mono(target)
    assert output_rate == rate
    assert len(output_samples) / rate == pytest.approx((end - start) / 24, abs=0.05)
    source_envelope, output_envelope = rms_envelope(source_samples, rate), rms_envelope(output_samples, rate)
    offset = int(round(start / 24 / ENVELOPE_HOP_S))
    window = len(output_envelope) - 40
    lags = range(-40, 41)  # +-40 ms
    scores = [np.corrcoef(source_envelope[offset + lag: offset + lag + window], output_envelope[:window])[0, 1] for lag in lags]
    best = int(np.argmax(scores))
    assert scores[best] > 0.8
    assert abs(lags[best]) <= 10, f"audio is {lags[best]} ms out of sync"


def test_mp3_audio_is_carried_as_aac(asset, tmp_path):
    target = tmp_path / "from_mp3.mp4"
    transcode(asset("video_single_face"), target)
    with av.open(str(target)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
    samples, _ = decoded_audio_mono(target)
    assert np.abs(samples).max() > 1e-3  # real sound came across
    assert stream_seconds(target, "audio") == pytest.approx(stream_seconds(target, "video"), abs=0.05)


def test_odd_size_is_padded_to_even(tmp_path):
    rng = np.random.default_rng(0)
    grey_blocks = np.repeat(np.repeat(rng.integers(0, 255, (7, 11, 1), dtype=np.uint8), 3, axis=0), 3, axis=1)
    picture = np.repeat(grey_blocks, 3, axis=2)  # 21x33; grey, so chroma subsampling costs nothing
    target = tmp_path / "odd.mp4"
    with VideoWriter(target, 33, 21, 10, crf=0, preset=TEST_PRESET) as writer:
        for _ in range(3):
            writer.write(picture)
    with open_reader(target) as reader:
        frames = list(reader)
    assert (reader.info.width, reader.info.height, reader.info.has_audio) == (34, 22, False)
    assert len(frames) == 3
    error = np.abs(frames[0].image[:21, :33].astype(np.int16) - picture).mean()
    assert error < 1  # lossless luma, exact rounding: the picture sits unmoved in the top-left


def test_even_size_is_kept_and_source_without_audio_gives_silent_output(tmp_path):
    silent_source = tmp_path / "silent.mp4"
    with VideoWriter(silent_source, 64, 48, 24, preset=TEST_PRESET) as writer:
        writer.write(np.zeros((48, 64, 3), np.uint8))
    target = tmp_path / "copy.mp4"
    transcode(silent_source, target)
    with open_reader(target) as reader:
        assert (reader.info.width, reader.info.height, reader.info.has_audio) == (64, 48, False)


def test_mkv_output_holds_h264_and_aac(asset, tmp_path):
    target = tmp_path / "clip.mkv"
    transcode(asset("video_single_face"), target, end=24)
    with av.open(str(target)) as container:
        assert container.format.name == "matroska,webm"
        assert [s.codec_context.name for s in container.streams] == ["h264", "aac"]
    with open_reader(target) as reader:
        assert sum(1 for _ in reader) == 24


def test_exception_inside_with_block_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with VideoWriter(tmp_path / "out.mp4", 64, 48, 24, preset=TEST_PRESET) as writer:
            writer.write(np.zeros((48, 64, 3), np.uint8))
            raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []


def test_existing_output_survives_a_failed_rewrite(tmp_path):
    target = tmp_path / "out.mp4"
    target.write_bytes(b"previous result")
    with pytest.raises(RuntimeError):
        with VideoWriter(target, 64, 48, 24, preset=TEST_PRESET) as writer:
            writer.write(np.zeros((48, 64, 3), np.uint8))
            raise RuntimeError("stop")
    assert target.read_bytes() == b"previous result" and [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_no_frames_is_a_user_error_and_leaves_nothing(tmp_path):
    with pytest.raises(UserError, match="No frames"):
        with VideoWriter(tmp_path / "out.mp4", 64, 48, 24):
            pass
    assert list(tmp_path.iterdir()) == []


def test_wrong_frame_shape_is_refused(tmp_path):
    with pytest.raises(ValueError, match="48x64x3"):
        with VideoWriter(tmp_path / "out.mp4", 64, 48, 24) as writer:
            writer.write(np.zeros((48, 65, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_the_temporary_file_of_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    """kill -9 runs no cleanup: the half-written temporary file stays until the next write to that path removes it."""
    import os
    import signal
    import subprocess
    import sys

    target = tmp_path / "out.mp4"
    script = (f"import numpy as np, time\nfrom faceswap.video import VideoWriter\n"
              f"w = VideoWriter({str(target)!r}, 64, 48, 24, preset={TEST_PRESET!r}).__enter__()\n"
              "for _ in range(30): w.write(np.zeros((48, 64, 3), np.uint8))\nprint('written', flush=True)\ntime.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "written"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        child.kill()
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".out.") and left[0].endswith(".mp4"), left
    another_writer = tmp_path / ".out.elsewhere-999-abcdefgh.mp4"  # another host's temporary file: not ours to judge
    another_writer.write_bytes(b"")
    with VideoWriter(target, 64, 48, 24, preset=TEST_PRESET) as writer:
        writer.write(np.zeros((48, 64, 3), np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([another_writer.name, "out.mp4"])
