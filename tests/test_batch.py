"""Batch conversion: outputs named after inputs, failures named, finished files skipped."""
from __future__ import annotations

from pathlib import Path

import pytest

from faceswap.convert.batch import collect_inputs, run_batch
from faceswap.convert.config import ConvertConfig
from faceswap.errors import UserError


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, asset):
    """Two short real clips (with sound) and a file that only claims to be a video."""
    from _convert_media import plain_reencode

    folder = tmp_path_factory.mktemp("batch_inputs")
    source = asset("video_single_face")
    plain_reencode(source, folder / "clip_1.mp4", start=0, end=12)
    plain_reencode(source, folder / "clip_2.mp4", start=30, end=42)
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    return folder


def _config() -> ConvertConfig:
    return ConvertConfig(encoder_preset="ultrafast", swap="b2a", batch_size=8)


def test_batch_converts_the_good_files_names_the_bad_one_and_skips_finished_ones(inputs, tmp_path, trained_swap_model):
    out = tmp_path / "out"
    first = run_batch([str(inputs)], str(trained_swap_model), str(out), _config())
    assert sorted(item.status for item in first.items) == ["done", "done", "failed"]
    (failed,) = first.failed
    assert failed.input.endswith("broken.mp4") and "broken.mp4" in failed.reason
    assert sorted(p.name for p in out.iterdir()) == ["clip_1.mp4", "clip_2.mp4"]  # nothing half-written
    from _convert_media import video_facts

    assert video_facts(out / "clip_1.mp4")["frames"] == 12
    second = run_batch([str(inputs / "*.mp4")], str(trained_swap_model), str(out), _config())
    assert sorted(item.status for item in second.items) == ["failed", "skipped", "skipped"]
    assert "1 failed" in second.describe() and "2 skipped" in second.describe()


def test_inputs_from_a_list_file_a_glob_and_a_folder(inputs, tmp_path):
    listing = tmp_path / "videos.txt"
    listing.write_text(f"# two clips\n{inputs / 'clip_2.mp4'}\n\n{inputs / 'clip_1.mp4'}\n")
    assert [p.name for p in collect_inputs([str(listing)])] == ["clip_2.mp4", "clip_1.mp4"]
    assert [p.name for p in collect_inputs([str(inputs / "clip_*.mp4")])] == ["clip_1.mp4", "clip_2.mp4"]
    assert [p.name for p in collect_inputs([str(inputs)])] == ["broken.mp4", "clip_1.mp4", "clip_2.mp4"]
    with pytest.raises(UserError, match="matches no files"):
        collect_inputs([str(tmp_path / "*.mkv")])


def test_relative_paths_in_a_list_file(inputs, tmp_path, monkeypatch):
    """From the list's folder (as playlists do), or from the working directory when only that holds the file."""
    import shutil

    work = tmp_path / "work"
    (work / "lists" / "videos").mkdir(parents=True)
    (work / "videos").mkdir()
    shutil.copy(inputs / "clip_1.mp4", work / "lists" / "videos" / "beside_list.mp4")
    shutil.copy(inputs / "clip_2.mp4", work / "videos" / "from_cwd.mp4")
    listing = work / "lists" / "all.txt"
    listing.write_text("videos/beside_list.mp4\nvideos/from_cwd.mp4\nvideos/nowhere.mp4\n")
    monkeypatch.chdir(work)
    found = collect_inputs(["lists/all.txt"])
    assert [p.resolve() for p in found[:2]] == [(work / "lists" / "videos" / "beside_list.mp4").resolve(),
                                                (work / "videos" / "from_cwd.mp4").resolve()]
    assert found[2] == Path("lists/videos/nowhere.mp4")  # missing: named in the batch's failures as the list gives it


def test_batch_cli_reports_and_exits_non_zero_on_a_failure(cli, inputs, tmp_path, trained_swap_model):
    listing = tmp_path / "list.txt"
    listing.write_text(f"{inputs / 'clip_1.mp4'}\n{tmp_path / 'missing.mp4'}\n")
    result = cli("faceswap", "batch", str(listing), "-m", str(trained_swap_model), "-o", str(tmp_path / "out"),
                 "--encoder-preset", "ultrafast", "--swap", "b2a")
    assert result.returncode == 1, result.stderr
    assert "1 done, 0 skipped, 1 failed" in result.stdout and "does not exist" in result.stdout
    assert result.stderr.startswith("Converting on cpu, fp32, ") and "encoder: libx264 (ultrafast, crf 18)" in result.stderr


def test_batch_on_a_local_ray_instance(inputs, tmp_path, trained_swap_model):
    import ray
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        summary = run_batch([str(inputs / "clip_1.mp4"), str(inputs / "broken.mp4")], str(trained_swap_model),
                            str(tmp_path / "out"), _config(), backend="ray")
    finally:
        ray.shutdown()
    assert [item.status for item in summary.items] == ["done", "failed"]
    assert (tmp_path / "out" / "clip_1.mp4").is_file() and not (tmp_path / "out" / "broken.mp4").exists()
