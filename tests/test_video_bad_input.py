"""Bad input to the video reader and writer: one clear UserError sentence, or frames plus the
names of those skipped; never a hang, never a half-written output."""
from __future__ import annotations

import random
import time

import numpy as np
import pytest

from faceswap.errors import UserError
from faceswap.video import VideoWriter, open_reader


def _one_sentence(error: pytest.ExceptionInfo, *needles: str) -> None:
    message = str(error.value)
    assert message.count("\n") == 0 and message.rstrip().endswith(".")
    for needle in needles:
        assert needle in message


def test_missing_file(tmp_path):
    with pytest.raises(UserError) as error:
        open_reader(tmp_path / "nope.mp4")
    _one_sentence(error, "nope.mp4", "does not exist")


def test_text_file_named_mp4(tmp_path):
    fake = tmp_path / "fake.mp4"
    fake.write_text("hello, this is not a video\n")
    with pytest.raises(UserError) as error:
        open_reader(fake)
    _one_sentence(error, "fake.mp4", "not a readable video")


def test_container_without_video_frames(tmp_path):
    """An mp4 whose only track had no frames: the muxer drops the track, so no video stream."""
    import av

    path = tmp_path / "empty.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.start_encoding()
    with pytest.raises(UserError) as error:
        open_reader(path)
    _one_sentence(error, "empty.mp4", "no video stream")


def test_video_stream_with_zero_decodable_frames(tmp_path):
    """A valid container whose picture data is all zeros: the index lists frames, none decode."""
    import av

    path = tmp_path / "blank.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(3):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 80 * index, np.uint8), format="bgr24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    data = bytearray(path.read_bytes())
    mdat = data.find(b"mdat")
    size = int.from_bytes(data[mdat - 4:mdat], "big")
    data[mdat + 4:mdat - 4 + size] = bytes(size - 8)
    path.write_bytes(bytes(data))
    with pytest.raises(UserError) as error:
        open_reader(path)
    _one_sentence(error, "blank.mp4", "no decodable video frames")


def test_truncated_video_yields_what_it_can_and_names_the_rest(tmp_path, asset):
    data = asset("video_wolfgang").read_bytes()
    truncated = tmp_path / "half.mp4"
    truncated.write_bytes(data[: len(data) // 2])
    started = time.monotonic()
    with open_reader(truncated) as reader:
        indices = [frame.index for frame in reader]
    assert time.monotonic() - started < 30
    assert 100 < len(indices) < 472 and indices == list(range(len(indices)))
    assert [index for index, _ in reader.skipped] == list(range(len(indices), 472))
    assert all("truncated" in reason for _, reason in reader.skipped)


def test_corrupt_stretch_is_skipped_and_named(tmp_path, asset):
    data = bytearray(asset("video_wolfgang").read_bytes())
    rng = random.Random(0)
    begin = int(len(data) * 0.4)
    data[begin:begin + 30_000] = bytes(rng.randrange(256) for _ in range(30_000))
    garbled = tmp_path / "garbled.mp4"
    garbled.write_bytes(bytes(data))
    with open_reader(garbled) as reader:
        indices = [frame.index for frame in reader]
    skipped = [index for index, _ in reader.skipped]
    assert skipped, "the garbled stretch should cost some frames"
    assert sorted(indices + skipped) == list(range(472))  # every slot is either yielded or named
    assert all("corrupt" in reason for _, reason in reader.skipped)


def test_empty_image_folder(tmp_path):
    with pytest.raises(UserError) as error:
        open_reader(tmp_path)
    _one_sentence(error, str(tmp_path), "holds no images")


def test_unwritable_output(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(UserError) as error:
        VideoWriter(blocker / "out.mp4", 64, 48, 24)
    _one_sentence(error, "a_file", "writable")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


def test_missing_audio_source_leaves_nothing(tmp_path):
    with pytest.raises(UserError) as error:
        VideoWriter(tmp_path / "out.mp4", 64, 48, 24, audio_from=tmp_path / "gone.mp4")
    _one_sentence(error, "gone.mp4")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("settings, needle", [
    ({"crf": 60}, "CRF 60"), ({"name": "out.avi"}, ".mp4, .m4v, .mov, .mkv"), ({"preset": "fastest"}, "preset 'fastest'"), ({"fps": 0}, "0 fps"), ({"width": 0}, "0x48"),
])
def test_bad_writer_settings(tmp_path, settings, needle):
    arguments = {"name": "out.mp4", "width": 64, "height": 48, "fps": 24, **settings}
    with pytest.raises(UserError) as error:
        VideoWriter(tmp_path / arguments.pop("name"), **arguments)
    _one_sentence(error, needle)
    assert list(tmp_path.iterdir()) == []
