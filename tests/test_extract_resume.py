"""--resume after the process was killed gives what an uninterrupted run gives."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from _image_files import is_whole_image

from faceswap.align import alignments as alignments_file
from faceswap.extract import ExtractConfig, extract


def kill_after_first_checkpoint(command: list[str], faces_dir: Path, timeout: float = 120) -> subprocess.Popen:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if (faces_dir / "alignments.json").is_file():
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    process.wait()
    return process


def test_resume_after_kill_matches_an_uninterrupted_run(asset, extracted_faces, tmp_path):
    video = str(asset("video_single_face"))
    out = tmp_path / "resumed"
    faceswap = str(Path(sys.executable).parent / "faceswap")
    process = kill_after_first_checkpoint([faceswap, "extract", "-i", video, "-o", str(out), "--save-every", "4", "--json"], out)
    assert process.returncode == -signal.SIGKILL, process.stderr.read()
    interrupted = json.loads((out / "alignments.json").read_text())
    assert not interrupted["complete"] and 0 < len(interrupted["frames"]) < 72

    summary = extract(ExtractConfig(input=video, output_dir=str(out), resume=True, progress=False))
    resumed = alignments_file.load(out)
    reference = alignments_file.load(extracted_faces["b"])
    assert resumed.complete and summary.frames == 72
    assert [f.index for f in resumed.frames] == [f.index for f in reference.frames] == list(range(72))
    resumed_faces, reference_faces = resumed.faces(), reference.faces()
    assert len(resumed_faces) == len(reference_faces)
    for (_, a), (_, b) in zip(resumed_faces, reference_faces):
        assert a.track_id == b.track_id and a.face_file == b.face_file
        assert np.allclose(a.landmarks_array(), b.landmarks_array(), atol=0.01)
    on_disk = sorted(p.name for p in (out / "faces").glob("*.jpg"))
    assert on_disk == sorted(Path(face.face_file).name for _, face in reference_faces)  # nothing lost, nothing twice
    for name in on_disk[::9]:
        resumed_crop = cv2.imread(str(out / "faces" / name)).astype(np.int16)
        reference_crop = cv2.imread(str(extracted_faces["b"] / "faces" / name)).astype(np.int16)
        assert np.abs(resumed_crop - reference_crop).mean() < 0.5


def test_resume_refuses_other_settings(asset, extracted_faces, tmp_path):
    import shutil

    import pytest

    from faceswap.errors import UserError

    copy = tmp_path / "copy"
    shutil.copytree(extracted_faces["b"], copy)
    data = json.loads((copy / "alignments.json").read_text())
    data["complete"] = False
    (copy / "alignments.json").write_text(json.dumps(data))
    with pytest.raises(UserError, match="size"):
        extract(ExtractConfig(input=str(asset("video_single_face")), output_dir=str(copy), resume=True, size=128, progress=False))
    with pytest.raises(UserError, match="not of"):
        extract(ExtractConfig(input=str(asset("video_wolfgang")), output_dir=str(copy), resume=True, progress=False))


def test_a_full_disk_mid_run_leaves_only_whole_images_and_resumes(asset, tmp_path, monkeypatch):
    """The 20th crop write hits ENOSPC half-way: one clear error, every PNG left decodes, and --resume finishes the job."""
    import errno
    import pathlib

    from faceswap.align.alignments import load
    from faceswap.errors import UserError

    out = tmp_path / "faces"
    real_write = pathlib.Path.write_bytes
    writes = []

    def filling_disk(path, data):
        writes.append(path)
        if len(writes) == 20:
            real_write(path, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(path, data)

    config = ExtractConfig(input=str(asset("video_single_face")), output_dir=str(out), save_every=4, batch_size=2, progress=False)
    monkeypatch.setattr(pathlib.Path, "write_bytes", filling_disk)
    with pytest.raises(UserError, match="No space left on device"):
        extract(config)
    monkeypatch.setattr(pathlib.Path, "write_bytes", real_write)
    images = list((out / "faces").iterdir()) + list((out / "masks").iterdir())
    assert images and all(is_whole_image(p) for p in images)
    extract(replace(config, resume=True))
    finished = load(out)
    assert finished.complete and len(finished.faces()) == 72
    assert all((out / face.face_file).is_file() for _, face in finished.faces())
