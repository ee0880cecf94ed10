"""Convert looks its detector and its output writer up in the registry: `--detector`, `--writer`
(png_folder reachable, auto from the output path) and unknown names refused before any work."""
from __future__ import annotations

import numpy as np
import pytest

from _convert_media import face_centres, face_regions, plain_reencode, read_frames
from faceswap.align.alignments import load
from faceswap.cli.main import main
from faceswap.registry import names

FRAMES = 12


def _convert_args(source, model, output, *extra: str) -> list[str]:
    return ["convert", "-i", str(source), "-m", str(model), "-o", str(output), "--frames", f"0:{FRAMES}",
            "--swap", "b2a", "--no-progress", *extra]


def _read_png_folder(folder) -> np.ndarray:
    import cv2

    return np.stack([cv2.imread(str(path), cv2.IMREAD_UNCHANGED) for path in sorted(folder.iterdir())])


def _spy_on_mtcnn(monkeypatch) -> list[int]:
    """Counts the frames the mtcnn detector is given (it stays the real detector)."""
    from faceswap.extract.detectors.mtcnn import MTCNNDetector

    seen: list[int] = []
    real_detect = MTCNNDetector.detect

    def detect(self, frames_bgr_uint8):
        seen.append(len(frames_bgr_uint8))
        return real_detect(self, frames_bgr_uint8)

    monkeypatch.setattr(MTCNNDetector, "detect", detect)
    return seen


@pytest.mark.parametrize("how", ["--writer png_folder into an existing folder", "auto for a path without a suffix"])
def test_png_folder_writes_one_lossless_png_per_frame(how, cli, tmp_path, asset, extracted_faces, trained_swap_model):
    source = asset("video_single_face")
    output = tmp_path / "frames"
    extra = ["--alignments", str(extracted_faces["b"])]
    if how.startswith("--writer"):
        output.mkdir()
        extra += ["--writer", "png_folder"]
    result = cli("faceswap", *_convert_args(source, trained_swap_model, output, *extra))
    assert result.returncode == 0, result.stderr
    assert f"wrote {output}: {FRAMES} frames, {FRAMES} faces swapped" in result.stdout
    assert sorted(p.name for p in output.iterdir()) == [f"{n:06d}.png" for n in range(FRAMES)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames", "frames.convert.json"]  # no temp folder left

    swapped, decoded = _read_png_folder(output), read_frames(source, 0, FRAMES)
    assert swapped.shape == decoded.shape == (FRAMES, 360, 640, 3) and swapped.dtype == np.uint8
    alignments, indices = load(extracted_faces["b"]), list(range(FRAMES))
    difference = np.abs(swapped.astype(np.int16) - decoded).max(axis=3)
    assert difference[face_centres(alignments, indices, (360, 640))].mean() > 10  # another face was drawn
    assert (difference[~face_regions(alignments, indices, (360, 640))] == 0).all()  # lossless everywhere else


def test_mtcnn_finds_the_faces_on_the_fly(monkeypatch, tmp_path, asset, extracted_faces, trained_swap_model):
    from faceswap.convert import ConvertConfig, convert

    calls = _spy_on_mtcnn(monkeypatch)
    source, output = asset("video_single_face"), tmp_path / "frames"
    summary = convert(ConvertConfig(input=str(source), model_dir=str(trained_swap_model), output=str(output),
                                    detector="mtcnn", frames=f"0:{FRAMES}", swap="b2a", progress=False))
    assert sum(calls) == FRAMES  # every frame went through mtcnn, none through the default detector
    assert summary.frames == FRAMES and summary.faces_swapped == summary.frames_swapped == FRAMES
    swapped, decoded = _read_png_folder(output), read_frames(source, 0, FRAMES)
    difference = np.abs(swapped.astype(np.int16) - decoded).max(axis=3)
    alignments, indices = load(extracted_faces["b"]), list(range(FRAMES))  # where extract's detector saw the face
    assert difference[face_centres(alignments, indices, (360, 640))].mean() > 10
    assert (difference[~face_regions(alignments, indices, (360, 640))] == 0).all()  # only the face changed


@pytest.mark.parametrize("flag, family, output_name", [
    ("--detector", "detector", "o.mp4"), ("--writer", "video_writer", "o.mp4"), ("--writer", "video_writer", "frames")])
def test_unknown_plugin_is_one_line_and_nothing_is_written(flag, family, output_name, capsys, tmp_path, asset, trained_swap_model):
    out = tmp_path / "out"
    out.mkdir()
    code = main(_convert_args(asset("video_single_face"), trained_swap_model, out / output_name, flag, "nosuch"))
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error: ")
    assert f"Unknown {family} 'nosuch'" in err and f"available: {', '.join(names(family))}." in err
    assert list(out.iterdir()) == []


def test_folder_output_refused_where_it_cannot_work(capsys, tmp_path, asset, trained_swap_model):
    import shutil

    inputs = tmp_path / "inputs"
    inputs.mkdir()
    clip = inputs / "clip.mp4"
    shutil.copy(asset("video_single_face"), clip)
    assert main(_convert_args(clip, trained_swap_model, inputs, "--writer", "png_folder")) == 2
    assert "holds the input" in capsys.readouterr().err
    assert sorted(p.name for p in inputs.iterdir()) == ["clip.mp4"]
    folder = tmp_path / "existing"
    folder.mkdir()
    assert main(_convert_args(clip, trained_swap_model, folder, "--writer", "mp4")) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and "--writer png_folder" in err


def test_batch_takes_the_detector(monkeypatch, capsys, tmp_path, asset, trained_swap_model):
    clip = tmp_path / "clip.mp4"
    plain_reencode(asset("video_single_face"), clip, start=0, end=FRAMES, preset="ultrafast")
    out = tmp_path / "out"
    assert main(["batch", str(clip), "-m", str(trained_swap_model), "-o", str(out), "--detector", "nosuch"]) == 2
    assert "Unknown detector 'nosuch'" in capsys.readouterr().err and not out.exists()

    calls = _spy_on_mtcnn(monkeypatch)
    code = main(["batch", str(clip), "-m", str(trained_swap_model), "-o", str(out), "--detector", "mtcnn",
                 "--swap", "b2a", "--encoder-preset", "ultrafast"])
    assert code == 0, capsys.readouterr()
    assert sum(calls) == FRAMES
    assert sorted(p.name for p in out.iterdir()) == ["batch_config.json", "clip.mp4"]
