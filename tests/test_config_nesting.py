"""Stage configs hold one engine TrainConfig (faceswap.config.nested) instead of re-declaring its
fields, while flags, flat keyword arguments, flat config files and saved train_config.json files
keep their flat shape. The old files below are what the code wrote before the nesting."""
from __future__ import annotations

import argparse
import dataclasses
import json
import shutil

import pytest

from classify.settings import TrainClassifierConfig
from faceswap.cli.main import main as faceswap_main
from faceswap.config import Shown, add_arguments, build, flat_settings, from_args, nested, settings, write_resolved
from faceswap.engine.config import TrainConfig
from faceswap.errors import UserError
from faceswap.segment import SegmentTrainConfig
from faceswap.swap import SwapTrainConfig, train_swap
from test_swap_support import faces_subset

STAGES = (SwapTrainConfig, SegmentTrainConfig, TrainClassifierConfig)
ENGINE_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}
# `write_resolved` output of the flat SwapTrainConfig / TrainClassifierConfig, before the nesting.
OLD_SWAP_FILE = '{"config_type":"SwapTrainConfig","faces_a":"FACES_A","faces_b":"FACES_B","model_dir":"MODEL_DIR","preset":"original","resolution":0,"encoder_widths":[8,16,32,64],"bottleneck":32,"decoder_widths":[16,8,4],"steps":2,"minutes":null,"batch_size":2,"lr":0.0005,"schedule":"constant","warmup_steps":0,"grad_clip":null,"precision":"auto","device":"cpu","threads":1,"compile":false,"channels_last":false,"faces_on_device":"auto","num_workers":-1,"seed":0,"deterministic":false,"resume":false,"log_every":2,"eval_every":2,"save_every":2,"save_minutes":10.0,"keep_last":3,"timelapse":null,"preview_faces":4,"progress":false,"min_faces":2,"val_fraction":0.1,"max_val_faces":64,"segmenter":"none","segmenter_minutes":null,"segmenter_steps":3000,"ssim_weight":1.0,"l1_weight":1.0,"mask_weight":0.5,"eyes_weight":3.0,"mouth_weight":2.0,"background_weight":0.1,"perceptual_weight":0.0,"adversarial_weight":0.0,"warp":0.03,"warp_grid":5,"rotation":10.0,"zoom":0.05,"shift":0.05,"flip":0.5,"colour":0.1,"augment_ramp":3000}'  # noqa: E501
OLD_CLASSIFY_FILE = '{"config_type":"TrainClassifierConfig","data":"DATA","model":"lenet","out":"OUT","head":"linear","val_data":null,"val_fraction":0.1,"pretrained":null,"freeze":false,"finetune":false,"backbone_lr_scale":0.1,"epochs":3,"batch_size":32,"lr":0.001,"weight_decay":0.0,"schedule":"cosine","img_size":null,"crop_ratio":null,"augment":"light","hidden_sizes":[256,128],"activation":"relu","head_hidden":256,"dropout":0.0,"label_smoothing":0.0,"precision":"fp32","grad_clip":1.5,"warmup":7,"resume":false,"max_minutes":null,"max_memory_mb":4096.0,"num_workers":0,"device":"auto","threads":1,"compile":false,"channels_last":false,"seed":0,"deterministic":false,"progress":false}'  # noqa: E501


def _no_flags() -> argparse.Namespace:
    return argparse.Namespace()


@pytest.mark.parametrize("stage", STAGES, ids=lambda c: c.__name__)
def test_a_stage_declares_no_engine_setting_itself(stage):
    direct = {f.name for f in dataclasses.fields(stage)}
    # out_dir may name the stage's own folder (the segmenter's): the engine's run folder inside it is filled in, never shown
    assert direct & (ENGINE_FIELDS - {"out_dir"}) == set(), "declare engine settings once, in TrainConfig"
    (engine,) = [f for f in dataclasses.fields(stage) if "nested" in f.metadata]
    assert isinstance(engine.default_factory(), TrainConfig)
    shown_from_engine = {name for name, s in settings(stage).items() if s.inner is not None}
    assert len(shown_from_engine) >= 11  # steps, batch size, lr, device, seed, ... come from the engine


def test_redeclaring_a_shown_engine_setting_is_refused_at_import():
    with pytest.raises(TypeError, match="batch_size"):
        @flat_settings
        @dataclasses.dataclass(frozen=True)
        class Twice:
            batch_size: int = 8
            engine: TrainConfig = nested(TrainConfig, {"batch_size": Shown()})
    with pytest.raises(TypeError, match="no setting"):
        nested(TrainConfig, {"batch_sise": Shown()})


def test_flat_keywords_attributes_and_replace_reach_the_nested_engine():
    config = SwapTrainConfig(faces_a="a", faces_b="b", model_dir="m", steps=5, batch_size=8, lr=0.1)
    assert (config.engine.max_steps, config.engine.batch_size, config.engine.lr) == (5, 8, 0.1)
    assert (config.steps, config.batch_size, config.lr) == (5, 8, 0.1)
    later = dataclasses.replace(config, minutes=2.0, preset="large128")
    assert later.engine.max_minutes == 2.0 and later.engine.max_steps == 5 and later.preset == "large128"
    assert SwapTrainConfig(**{**config.__dict__, "resume": True}).engine.resume is True
    # the stage's own defaults, and the engine settings it fixes without showing them
    defaults = SwapTrainConfig(faces_a="a", faces_b="b", model_dir="m").engine
    assert (defaults.lr, defaults.batch_size, defaults.num_workers, defaults.eval_every, defaults.save_minutes,
            defaults.max_steps, defaults.epochs, defaults.optimizer) == (5e-4, 0, -1, 250, 10.0, 100_000, None, "adam")
    classify = TrainClassifierConfig(data="d", model="lenet", out="o", warmup=3).engine
    assert (classify.warmup_steps, classify.batch_size, classify.schedule, classify.keep_last) == (3, 64, "cosine", 2)
    segment = SegmentTrainConfig(faces=("a",), out_dir="s", steps=40)
    assert (segment.steps, segment.engine.max_steps, segment.batch_size, segment.lr) == (40, 40, 16, 5e-3)
    assert (segment.engine.optimizer, segment.engine.best_metric, segment.engine.best_mode, segment.engine.keep_last,
            segment.engine.weight_decay) == ("adamw", "val_iou", "max", 2, 1e-4)


def test_bad_engine_values_are_named_as_the_stage_shows_them():
    with pytest.raises(UserError, match=r"^steps must be at least 1") as error:
        SwapTrainConfig(faces_a="a", faces_b="b", model_dir="m", steps=0)
    assert "max_steps" not in str(error.value)
    with pytest.raises(UserError, match=r"^warmup and threads must not be negative"):
        TrainClassifierConfig(data="d", model="lenet", out="o", warmup=-1)
    with pytest.raises(UserError, match="--epochs and --batch-size"):  # 0 is the engine's auto; classify has none
        TrainClassifierConfig(data="d", model="lenet", out="o", batch_size=0)


def test_flat_config_files_load_and_unknown_or_hidden_keys_are_one_error(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"faces_a": "a", "faces_b": "b", "model_dir": "m", "steps": 3, "lr": 0.01,
                                "warmup_steps": 2, "encoder_widths": [8, 16]}))
    config = from_args(SwapTrainConfig, _no_flags(), str(good))
    assert (config.engine.max_steps, config.engine.lr, config.engine.warmup_steps) == (3, 0.01, 2)
    assert config.encoder_widths == (8, 16)
    for bad, named in (({"optimizer": "sgd"}, "optimizer"), ({"max_steps": 3}, "max_steps"),
                       ({"engine": {"lr": 0.1}}, "engine")):
        path = tmp_path / f"{named}.json"
        path.write_text(json.dumps({"faces_a": "a", "faces_b": "b", "model_dir": "m", **bad}))
        with pytest.raises(UserError, match=rf"^Unknown setting\(s\) {named} for SwapTrainConfig"):
            from_args(SwapTrainConfig, _no_flags(), str(path))
    wrong_type = tmp_path / "wrong.json"
    wrong_type.write_text(json.dumps({"data": "d", "model": "lenet", "out": "o", "warmup": "soon"}))
    with pytest.raises(UserError, match='"warmup" in the config file .* not a whole number'):
        from_args(TrainClassifierConfig, _no_flags(), str(wrong_type))


def test_old_classify_config_file_loads_and_is_written_back_in_the_same_flat_shape(tmp_path):
    old = tmp_path / "train_config.json"
    old.write_text(OLD_CLASSIFY_FILE)
    parser = argparse.ArgumentParser()
    add_arguments(parser, TrainClassifierConfig)
    config = from_args(TrainClassifierConfig, parser.parse_args(["--epochs", "5"]), str(old))
    assert (config.engine.epochs, config.engine.warmup_steps, config.engine.grad_clip) == (5, 7, 1.5)
    write_resolved(config, tmp_path / "again.json")
    again, before = json.loads((tmp_path / "again.json").read_text()), json.loads(OLD_CLASSIFY_FILE)
    assert again == {**before, "epochs": 5}


def test_an_old_flat_train_config_json_still_resumes(extracted_faces, tmp_path):
    faces = {side: faces_subset(extracted_faces[side], tmp_path / side, 6) for side in "ab"}
    model_dir = tmp_path / "m"
    old = json.loads(OLD_SWAP_FILE) | {"faces_a": str(faces["a"]), "faces_b": str(faces["b"]), "model_dir": str(model_dir)}
    train_swap(build(SwapTrainConfig, {k: v for k, v in old.items() if k != "config_type"}))
    (model_dir / "train_config.json").write_text(json.dumps(old))  # as the flat code wrote it
    saved = tmp_path / "saved_settings.json"
    shutil.copy(model_dir / "train_config.json", saved)

    assert faceswap_main(["train", "--config", str(saved), "--resume", "--steps", "4"]) == 0
    assert json.loads((model_dir / "training" / "checkpoints" / "latest.json").read_text())["step"] == 4
    rewritten = json.loads((model_dir / "train_config.json").read_text())
    added_since = {"blink": 0.0, "balance": 0.0, "ema": 0.0}  # settings newer than the old file get their defaults
    assert rewritten == {**old, "steps": 4, "resume": True, **added_since}  # the same flat keys and values, nothing nested
