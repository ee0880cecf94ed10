"""Convert on real media with the briefly trained model: length, rate and sound kept, faces
changed, everything else as a plain re-encode would leave it."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from _convert_media import (audio_offset, face_centres, face_regions, plain_reencode, read_frames,
                            reader_fps, video_facts)
from faceswap.align.alignments import load
from faceswap.convert import ConvertConfig, convert

PRESET = "veryfast"  # the same for convert and the plain re-encode it is compared with


def _config(**values) -> ConvertConfig:
    return ConvertConfig(encoder_preset=PRESET, progress=False, **values)


@pytest.fixture(scope="module")
def single_face_run(tmp_path_factory, asset, extracted_faces, trained_swap_model):
    """single_face.mp4 converted whole (B's faces drawn as A), and a plain re-encode of it."""
    root = tmp_path_factory.mktemp("convert_full")
    source = asset("video_single_face")
    output, plain = root / "swapped.mp4", root / "plain.mp4"
    summary = convert(_config(input=str(source), model_dir=str(trained_swap_model), output=str(output),
                              alignments=str(extracted_faces["b"]), swap="b2a"))
    plain_reencode(source, plain, preset=PRESET)
    return source, output, plain, summary, load(extracted_faces["b"])


def test_full_length_keeps_frame_count_rate_and_sound(single_face_run):
    source, output, _, summary, _ = single_face_run
    source_facts, output_facts = video_facts(source), video_facts(output)
    assert output_facts["frames"] == source_facts["frames"] == summary.frames == 72
    assert output_facts["fps"] == pytest.approx(source_facts["fps"], rel=1e-4)
    # sound as long as the picture (AAC packs samples in 1024-sample frames)
    assert output_facts["audio_seconds"] == pytest.approx(72 / source_facts["fps"], abs=0.05)
    assert summary.faces_swapped == summary.frames_swapped == 72


def test_faces_change_and_the_rest_matches_a_plain_reencode(single_face_run):
    source, output, plain, _, alignments = single_face_run
    swapped, reencoded, decoded = read_frames(output), read_frames(plain), read_frames(source)
    assert swapped.shape == reencoded.shape == (72, 360, 640, 3)
    indices = list(range(0, 72, 3))  # every third frame keeps the pixel checks quick
    swapped, reencoded, decoded = swapped[indices], reencoded[indices], decoded[indices]
    difference = np.abs(swapped.astype(np.int16) - reencoded.astype(np.int16)).max(axis=3)
    centres = face_centres(alignments, indices, (360, 640))
    assert difference[centres].mean() > 10  # the model drew another face there
    away = ~face_regions(alignments, indices, (360, 640))
    assert away.mean() > 0.6
    # away from the faces the two encodes differ less than one encode differs from its source
    encoder_noise = np.abs(reencoded.astype(np.int16) - decoded)[away].mean()
    assert np.abs(swapped.astype(np.int16) - reencoded)[away].mean() < encoder_noise
    assert (difference[away] <= 12).mean() > 0.999


def test_trimmed_range_keeps_sound_in_sync_and_writes_previews(tmp_path, asset, extracted_faces, trained_swap_model):
    source = asset("video_single_face")
    output, comparison = tmp_path / "range.mp4", tmp_path / "side_by_side.mp4"
    summary = convert(_config(input=str(source), model_dir=str(trained_swap_model), output=str(output),
                              alignments=str(extracted_faces["b"]), swap="b2a", frames="20:60", preview=2,
                              side_by_side=str(comparison), color="histogram", seamless=True))
    facts = video_facts(output)
    assert facts["frames"] == summary.frames == 40
    assert facts["audio_seconds"] == pytest.approx(40 / 30, abs=0.05)
    assert audio_offset(output, source, expected_start=20 / 30) == pytest.approx(20 / 30, abs=0.01)
    comparison_frames = read_frames(comparison, end=1)
    assert comparison_frames.shape[1:] == (360, 1280, 3) and video_facts(comparison)["frames"] == 40
    assert len(summary.previews) == 2
    import cv2

    for path in summary.previews:
        assert cv2.imread(path).shape == (360, 1280, 3)


def test_a_video_without_faces_passes_through_unchanged(tmp_path, asset, trained_swap_model):
    source = asset("video_no_face")
    output, plain = tmp_path / "no_face.mp4", tmp_path / "plain.mp4"
    config = dataclasses.replace(_config(input=str(source), model_dir=str(trained_swap_model), output=str(output)),
                                 encoder_preset="ultrafast")
    summary = convert(config)
    plain_reencode(source, plain, preset="ultrafast")
    assert summary.faces_swapped == 0
    source_facts, output_facts = video_facts(source), video_facts(output)
    assert output_facts["frames"] == source_facts["frames"] == 95
    assert output_facts["fps"] == pytest.approx(reader_fps(source), rel=1e-4)
    assert output_facts["audio_seconds"] == pytest.approx(95 / reader_fps(source), abs=0.05)
    assert np.abs(read_frames(output).astype(np.int16) - read_frames(plain)).max() <= 1


def test_corrupt_frames_are_named_and_replaced_so_length_and_sound_hold(tmp_path, asset, trained_swap_model):
    data = bytearray(asset("video_single_face").read_bytes())
    for fraction in (0.3, 0.6):
        position = int(len(data) * fraction)
        data[position:position + 3000] = bytes(3000)
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    output = tmp_path / "out.mp4"
    summary = convert(_config(input=str(damaged), model_dir=str(trained_swap_model), output=str(output), swap="b2a"))
    assert summary.skipped_frames and all("corrupt" in reason for _, reason in summary.skipped_frames)
    assert "skipped corrupt frame" in summary.describe()
    assert video_facts(output)["frames"] == summary.frames == 72


def test_python_config_round_trips_through_the_resolved_json(tmp_path):
    from faceswap.config import build, to_dict

    config = _config(input="in.mp4", model_dir="m", output="o.mp4", select="track=2", frames="5:")
    assert build(ConvertConfig, to_dict(config)) == config
    assert dataclasses.replace(config, swap="b2a").swap == "b2a"
