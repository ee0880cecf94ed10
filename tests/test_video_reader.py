"""Reader: real sample videos (exact counts, rates, times, ranges), rotation, image folders."""
from __future__ import annotations

import hashlib
import tracemalloc

import cv2
import numpy as np
import pytest

from faceswap.errors import UserError
from faceswap.video import Frame, VideoInfo, open_reader

WOLFGANG_FPS = 24000 / 1001


def _digest(image: np.ndarray) -> str:
    return hashlib.sha1(image.tobytes()).hexdigest()


@pytest.fixture(scope="module")
def wolfgang_decode(asset):
    """(info, [(index, time, digest)], skipped, peak traced bytes) of one full decode."""
    tracemalloc.start()
    try:
        with open_reader(asset("video_wolfgang")) as reader:
            frames = []
            for frame in reader:
                assert isinstance(frame, Frame) and frame.image.shape == (360, 640, 3) and frame.image.dtype == np.uint8
                frames.append((frame.index, frame.time, _digest(frame.image)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return reader.info, frames, list(reader.skipped), peak


def test_info_of_sample_video(wolfgang_decode, asset):
    info, _, _, _ = wolfgang_decode
    assert isinstance(info, VideoInfo)
    assert (info.kind, info.width, info.height, info.rotation) == ("video", 640, 360, 0)
    assert info.fps == pytest.approx(WOLFGANG_FPS, abs=1e-9)
    assert not info.variable_fps
    assert (info.frame_count, info.frame_count_exact) == (472, True)
    assert info.has_audio
    assert info.duration == pytest.approx(472 / WOLFGANG_FPS, abs=0.05)
    assert info.path == str(asset("video_wolfgang"))


def test_decodes_every_frame_with_index_and_time(wolfgang_decode):
    _, frames, skipped, _ = wolfgang_decode
    assert [index for index, _, _ in frames] == list(range(472))
    times = np.array([time for _, time, _ in frames])
    assert times[0] == 0.0
    np.testing.assert_allclose(times, np.arange(472) / WOLFGANG_FPS, atol=1e-6)
    assert len({digest for _, _, digest in frames}) > 400  # real, changing pictures
    assert skipped == []


def test_memory_stays_flat_while_streaming(wolfgang_decode):
    *_, peak_bytes = wolfgang_decode
    frame_bytes = 640 * 360 * 3
    assert peak_bytes < 8 * frame_bytes  # holding the video would take 472 frames' worth


def test_frame_range_yields_the_same_frames_as_a_full_decode(wolfgang_decode, asset):
    _, frames, _, _ = wolfgang_decode
    with open_reader(asset("video_wolfgang"), start=100, end=250) as reader:
        ranged = [(f.index, f.time, _digest(f.image)) for f in reader]
    assert ranged == frames[100:250]


def test_rgb_on_request_is_bgr_reversed(asset):
    with open_reader(asset("video_wolfgang"), end=1) as bgr_reader, open_reader(asset("video_wolfgang"), rgb=True, end=1) as rgb_reader:
        (bgr,), (rgb,) = list(bgr_reader), list(rgb_reader)
    np.testing.assert_array_equal(rgb.image, bgr.image[:, :, ::-1])


def test_variable_frame_rate_is_reported_and_timed(asset):
    with open_reader(asset("video_face_noface")) as reader:
        info = reader.info
        times = np.array([frame.time for frame in reader])
    assert info.variable_fps and info.frame_count_exact
    assert len(times) == info.frame_count == 169
    steps = np.diff(times)
    assert steps.min() > 0 and steps.max() - steps.min() > 0.005  # real, uneven intervals
    assert info.fps == pytest.approx(len(times) / info.duration, rel=0.02)


def test_edit_list_cut_frames_are_not_counted(asset):
    """no_face.mp4 indexes 98 samples but its edit list shows 95 at a constant 24 fps."""
    with open_reader(asset("video_no_face")) as reader:
        info = reader.info
        decoded = sum(1 for _ in reader)
    assert decoded == info.frame_count == 95 and info.frame_count_exact
    assert info.fps == 24.0 and not info.variable_fps
    assert (info.width, info.height) == (960, 540)


def _write_rotated_clip(path, display_rotation: int, picture_bgr: np.ndarray) -> None:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = picture_bgr.shape[1], picture_bgr.shape[0], "yuv420p"
        stream.set_display_rotation(display_rotation)  # counterclockwise, as FFmpeg's display matrix
        for index in range(3):
            frame = av.VideoFrame.from_ndarray(picture_bgr, format="bgr24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


@pytest.mark.parametrize("display_rotation, clockwise", [(-90, 90), (90, 270), (180, 180)])
def test_rotation_metadata_is_applied(tmp_path, display_rotation, clockwise):
    picture = np.zeros((48, 64, 3), np.uint8)
    picture[:16, :16] = 255  # white marker top-left of the stored picture
    path = tmp_path / "rotated.mp4"
    _write_rotated_clip(path, display_rotation, picture)
    with open_reader(path) as reader:
        frames = list(reader)
    assert reader.info.rotation == clockwise
    expected = np.rot90(picture, k=-clockwise // 90)  # what a player shows (checked against ffmpeg's autorotate)
    assert (reader.info.height, reader.info.width) == expected.shape[:2]
    assert len(frames) == 3
    for frame in frames:
        assert frame.image.shape == expected.shape and frame.image.flags.c_contiguous
        assert np.abs(frame.image.astype(int) - expected).mean() < 8


def test_image_folder_in_natural_order(tmp_path):
    values = {"10.png": 30, "2.png": 20, "1.png": 10, "frame_b.jpg": 40}
    for name, value in values.items():
        cv2.imwrite(str(tmp_path / name), np.full((24, 32, 3), value, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    with open_reader(tmp_path, start=0) as reader:
        frames = list(reader)
    assert [f.name for f in frames] == ["1.png", "2.png", "10.png", "frame_b.jpg"]
    assert [f.index for f in frames] == [0, 1, 2, 3]
    assert [int(f.image.mean().round()) for f in frames] == [10, 20, 30, 40]
    assert [f.time for f in frames] == pytest.approx([0, 0.04, 0.08, 0.12])
    info = reader.info
    assert (info.kind, info.width, info.height, info.frame_count, info.has_audio) == ("images", 32, 24, 4, False)
    with open_reader(tmp_path, start=1, end=3) as reader:
        assert [f.name for f in reader] == ["2.png", "10.png"]


def test_unreadable_image_in_folder_is_skipped_and_named(tmp_path):
    cv2.imwrite(str(tmp_path / "1.png"), np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "2.png").write_bytes(b"not a png")
    cv2.imwrite(str(tmp_path / "3.png"), np.zeros((8, 8, 3), np.uint8))
    with open_reader(tmp_path) as reader:
        assert [f.name for f in reader] == ["1.png", "3.png"]
    assert reader.skipped == [(1, "2.png is not a readable image")]


def test_single_image(asset):
    with open_reader(asset("image_multi_face"), rgb=True) as reader:
        frames = list(reader)
    assert reader.info.kind == "image" and (reader.info.width, reader.info.height) == (1000, 667)
    assert len(frames) == 1 and frames[0].image.shape == (667, 1000, 3) and frames[0].name == "multi_face.jpg"


def test_invalid_range_is_a_user_error(asset):
    with pytest.raises(UserError, match="start=5, end=2"):
        open_reader(asset("video_wolfgang"), start=5, end=2)


def test_bt709_tagged_video_decodes_to_the_right_colours(tmp_path):
    """HD video is usually BT.709; decoding it with the BT.601 matrix shifts saturated colours."""
    import av
    from av.video.reformatter import Interpolation

    swatches = np.array([[0, 0, 255], [0, 255, 0], [255, 0, 0], [40, 160, 220]], np.uint8)  # BGR
    picture = np.ascontiguousarray(np.repeat(np.repeat(swatches[None], 32, axis=0), 16, axis=1))  # 32x64
    path = tmp_path / "bt709.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10, options={"crf": "0"})
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        stream.codec_context.colorspace = 1  # AVCOL_SPC_BT709
        frame = av.VideoFrame.from_ndarray(picture, format="bgr24").reformat(
            format="yuv420p", dst_colorspace="ITU709", interpolation=Interpolation.BILINEAR | Interpolation.ACCURATE_RND)
        frame.colorspace, frame.pts = 1, 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with open_reader(path) as reader:
        (decoded,) = list(reader)
    centres = decoded.image[16, 8::16].astype(int)  # one pixel inside each swatch, away from chroma edges
    assert np.abs(centres - swatches).max() <= 4
