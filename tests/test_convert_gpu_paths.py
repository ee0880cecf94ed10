"""Convert's GPU paths, checked on the CPU: the torch paste against OpenCV's on real frames, bf16 against
fp32, paste workers against pasting inline, and the choices `auto` makes on a CUDA machine."""
from __future__ import annotations

import re
import threading
import time

import numpy as np
import pytest
import torch

from _convert_media import read_frames
from faceswap.align.alignments import load
from faceswap.convert.blend import feathered_mask, paste_face
from faceswap.convert.choices import choose_encoder, choose_paste, choose_paste_workers
from faceswap.convert.config import ConvertConfig
from faceswap.convert.paste_torch import paste_face_torch
from faceswap.errors import UserError

BLEND = 128  # convert's blend-crop size for 64 px models

# OpenCV's warpAffine rounds every sample position to 1/32 pixel; grid_sample samples the exact position.
# In the feathered ring (the mask falls from 1 to 0 over ~5 crop pixels) that moves the mask by at most
# ~1/(64 x 5) = 0.003, i.e. under one level of a face/background contrast of 255: after rounding the two
# paths agree or sit one level apart there, and agree exactly inside the face. Measured on the real
# frame below: 1 level at most, in 5% of the face's pixels (mean 0.05). A geometry error (half a pixel
# off, a wrong border mode) moves whole edges by tens of levels.
MAX_LEVELS, MAX_MEAN = 1, 0.1


def _real_paste_inputs(asset, extracted_faces):
    """A frame of single_face.mp4, its face's frame->crop matrix, Wolfgang's aligned face as the new face
    (another person: real edges everywhere), and the landmark-outline mask feathered as convert does."""
    from faceswap.align.mask import outline_mask
    from faceswap.align.transform import rescale, transform_points, warp_to_crop

    target, donor = load(extracted_faces["b"]), load(extracted_faces["a"])
    frame_record, face = target.faces()[10]
    frame = read_frames(asset("video_single_face"), frame_record.index, frame_record.index + 1)[0]
    matrix = rescale(face.matrix_array(), target.template.size, BLEND)
    donor_frame_record, donor_face = donor.faces()[0]
    donor_frame = read_frames(asset("video_wolfgang"), donor_frame_record.index, donor_frame_record.index + 1)[0]
    new_face = warp_to_crop(donor_frame, rescale(donor_face.matrix_array(), donor.template.size, BLEND), BLEND)
    outline = outline_mask(transform_points(face.landmarks_array(), matrix), target.template, BLEND)
    defaults = ConvertConfig()
    mask = feathered_mask(outline.astype(np.float32) / 255.0, defaults.erode, defaults.blur)
    return frame, new_face, mask, matrix


def test_torch_paste_matches_opencv_on_a_real_frame(asset, extracted_faces):
    frame, new_face, mask, matrix = _real_paste_inputs(asset, extracted_faces)
    by_opencv, by_torch = frame.copy(), frame.copy()
    paste_face(by_opencv, new_face, mask, matrix)
    paste_face_torch(by_torch, new_face, mask, matrix, torch.device("cpu"))
    changed, changed_by_torch = (by_opencv != frame).any(axis=2), (by_torch != frame).any(axis=2)
    assert changed.sum() > 3000  # the face was replaced
    assert (changed ^ changed_by_torch).sum() < 0.01 * changed.sum()  # the same pixels change (but where the mask is ~0)
    difference = np.abs(by_opencv.astype(np.int16) - by_torch)
    assert difference.max() <= MAX_LEVELS
    assert difference[changed].mean() <= MAX_MEAN


def test_torch_paste_of_a_face_half_outside_the_frame(asset, extracted_faces):
    """The frame's edge cuts the face: the same clipped box, the same pixels."""
    frame, new_face, mask, matrix = _real_paste_inputs(asset, extracted_faces)
    moved = matrix.copy()
    moved[:, 2] += matrix[:, :2] @ np.array([260.0, 0.0])  # the face moves 260 px left, across the frame's edge
    by_opencv, by_torch = frame.copy(), frame.copy()
    paste_face(by_opencv, new_face, mask, moved)
    paste_face_torch(by_torch, new_face, mask, moved, torch.device("cpu"))
    assert (by_opencv != frame).any(axis=2)[:, :5].any()  # it reaches the frame's left edge
    assert np.abs(by_opencv.astype(np.int16) - by_torch).max() <= MAX_LEVELS


def test_auto_choices_on_cuda_and_on_the_cpu(monkeypatch):
    from faceswap.engine.precision import resolve_precision

    defaults = ConvertConfig()
    assert (defaults.paste, defaults.precision, defaults.encoder, defaults.paste_workers) == ("auto", "auto", "auto", 0)
    assert choose_paste("auto", "cuda") == "torch"
    assert choose_paste("auto", "cpu") == choose_paste("auto", "mps") == "opencv"
    assert choose_paste("auto", "cuda", seamless=True) == "opencv"  # Poisson blending is OpenCV's alone
    with pytest.raises(UserError, match="--paste opencv"):
        choose_paste("torch", "cuda", seamless=True)
    assert choose_encoder("auto", "cuda") == "nvenc" and choose_encoder("auto", "cpu") == "x264"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    assert resolve_precision(defaults.precision, torch.device("cuda")).name == "bf16"
    assert resolve_precision(defaults.precision, torch.device("cpu")).name == "fp32"
    # paste workers: none on this 2-core machine (measured: a worker only competes with x264), more with more cores
    assert choose_paste_workers(0, cpu_count=2) == 0
    assert choose_paste_workers(0, cpu_count=8) == 4 and choose_paste_workers(0, cpu_count=64) == 4
    assert choose_paste_workers(3, cpu_count=2) == 3


def test_paste_workers_keep_order_and_hold_a_bounded_window():
    from faceswap.convert.paste_workers import FRAMES_PER_WORKER, map_in_order

    produced, lock = [], threading.Lock()
    active, most_active = [0], [0]

    def items():
        for index in range(40):
            produced.append(index)
            yield index

    def work(index: int) -> int:
        with lock:
            active[0] += 1
            most_active[0] = max(most_active[0], active[0])
        time.sleep(0.002 * (index % 3))  # later items often finish first
        with lock:
            active[0] -= 1
        return index * 10

    results = []
    for result in map_in_order(work, items(), workers=3):
        results.append(result)
        assert len(produced) - len(results) <= FRAMES_PER_WORKER * 3  # the window: memory stays flat
    assert results == [index * 10 for index in range(40)]
    assert 1 < most_active[0] <= 3


def test_bf16_swap_is_close_to_fp32_and_really_bf16(asset, extracted_faces, trained_swap_model):
    from faceswap.align.transform import rescale, warp_to_crop
    from faceswap.convert.pipeline import load_model
    from faceswap.convert.swapper import FaceJob, FaceSwapper

    model, template, resolution, rgb = load_model(str(trained_swap_model), torch.device("cpu"))
    alignments = load(extracted_faces["b"])
    frames = read_frames(asset("video_single_face"), 0, 8)
    jobs = [FaceJob(track_id=face.track_id, matrix_blend=face.matrix_array(), landmarks_blend=face.landmarks_array(),
                    model_input_bgr_uint8=warp_to_crop(frames[record.index],
                                                       rescale(face.matrix_array(), alignments.template.size, resolution), resolution))
            for record, face in alignments.faces()[:8]]  # run_model reads only the model inputs
    outputs = {}
    for precision in ("fp32", "bf16"):
        config = ConvertConfig(model_dir=str(trained_swap_model), mask="learned", precision=precision)
        swapper = FaceSwapper(model, "b2a", torch.device("cpu"), resolution, template, config, rgb)
        assert swapper.precision.name == precision
        outputs[precision] = swapper.run_model(jobs)
    faces_fp32, faces_bf16 = (outputs[name][0].astype(np.int16) for name in ("fp32", "bf16"))
    assert not np.array_equal(faces_fp32, faces_bf16)  # bf16 arithmetic really ran
    # bf16 keeps 8 bits of mantissa: a few levels at most on a 0..255 face, about one on average
    assert np.abs(faces_fp32 - faces_bf16).max() <= 12 and np.abs(faces_fp32 - faces_bf16).mean() < 1.5
    assert np.abs(outputs["fp32"][1] - outputs["bf16"][1]).max() < 0.05  # the learned masks
    assert outputs["bf16"][1].dtype == np.float32


def test_convert_through_torch_paste_and_paste_workers_matches_the_opencv_path(tmp_path, asset, extracted_faces,
                                                                               trained_swap_model):
    """The whole convert, 8 real frames into PNGs (no encoder noise): OpenCV pasted by two workers is the
    inline result bit for bit (frame order kept); the torch paste is within the levels above."""
    from faceswap.convert import convert

    def run(name: str, **settings) -> np.ndarray:
        output = tmp_path / name
        summary = convert(ConvertConfig(input=str(asset("video_single_face")), model_dir=str(trained_swap_model),
                                        output=str(output), alignments=str(extracted_faces["b"]), swap="b2a",
                                        frames="0:8", progress=False, **settings))
        assert summary.faces_swapped == 8
        return read_frames(output)

    inline = run("inline", paste="opencv", paste_workers=0)
    assert np.array_equal(run("workers", paste="opencv", paste_workers=2), inline)
    by_torch = run("torch", paste="torch", paste_workers=2)
    source = read_frames(asset("video_single_face"), 0, 8)
    changed = (inline != source).any(axis=3)
    assert changed.sum() > 8 * 3000
    difference = np.abs(by_torch.astype(np.int16) - inline)
    assert difference.max() <= MAX_LEVELS and difference[changed].mean() <= MAX_MEAN


def test_convert_prints_its_choices_at_start(capsys, tmp_path, asset, extracted_faces, trained_swap_model):
    from faceswap.cli.main import main

    code = main(["convert", "-i", str(asset("video_single_face")), "-m", str(trained_swap_model), "-o",
                 str(tmp_path / "o.mp4"), "--alignments", str(extracted_faces["b"]), "--swap", "b2a", "--frames", "0:3",
                 "--paste-workers", "1", "--encoder", "x264", "--encoder-preset", "ultrafast", "--no-progress"])
    assert code == 0
    first_line = capsys.readouterr().err.splitlines()[0]
    assert re.fullmatch(r"Converting on cpu, fp32, \d+ CPU threads?, paste: opencv \(1 paste worker\), "
                        r"encoder: libx264 \(ultrafast, crf 18\)\.", first_line), first_line
