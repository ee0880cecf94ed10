"""The weight average (TrainConfig.ema): its arithmetic, its checkpointing and resume, and its range."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from faceswap.engine import TrainConfig, Trainer
from faceswap.engine.checkpoint import find_latest_checkpoint, read_checkpoint
from faceswap.engine.ema import WeightAverage
from faceswap.errors import UserError
from test_engine_train import Regression, config, regression_data


def test_the_average_trails_the_weights_with_a_warmed_up_decay_and_is_put_in_only_while_applied():
    layer = nn.Linear(2, 2)
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    average = WeightAverage(layer, decay=0.9)
    with torch.no_grad():
        layer.weight.fill_(1.0)
    average.update()  # the first update's decay is 2/11, not 0.9: a short run does not keep its start
    assert float(average.shadow[0][0, 0]) == pytest.approx(1 - 2 / 11)
    for _ in range(200):
        average.update()
    assert average.current_decay() == 0.9 and float(average.shadow[0][0, 0]) == pytest.approx(1.0, abs=1e-6)
    assert float(average.shadow[1][0]) == 0.0  # the bias never moved
    with torch.no_grad():
        layer.weight.fill_(5.0)
    with average.applied():
        assert float(layer.weight[0, 0]) == pytest.approx(1.0, abs=1e-6)
    assert float(layer.weight[0, 0]) == 5.0


def test_frozen_weights_are_not_averaged():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    model[0].requires_grad_(False)
    assert WeightAverage(model, 0.9).names == ["1.weight", "1.bias"]


def test_a_resumed_run_continues_the_average_of_the_run_it_resumes(tmp_path):
    data = regression_data(64)
    torch.manual_seed(0)
    straight = Trainer(Regression(), config(tmp_path / "straight", epochs=None, max_steps=8, ema=0.9, deterministic=True))
    straight.fit(data)
    state = read_checkpoint(find_latest_checkpoint(tmp_path / "straight" / "run"))[1]["ema"]
    assert int(state["updates"]) == 8 and set(state) == {"net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "updates"}
    assert not torch.equal(state["net.0.weight"], straight.task.net[0].weight.detach())  # an average, not the weights

    torch.manual_seed(0)
    Trainer(Regression(), config(tmp_path / "split", epochs=None, max_steps=4, ema=0.9, deterministic=True)).fit(data)
    resumed = Trainer(Regression(), config(tmp_path / "split", epochs=None, max_steps=8, ema=0.9, deterministic=True,
                                           resume=True))
    resumed.fit(data)
    assert resumed.ema.updates == 8
    for mine, theirs in zip(resumed.ema.shadow, straight.ema.shadow):
        assert torch.allclose(mine, theirs, atol=1e-6)


def test_a_decay_outside_zero_to_one_is_a_user_error():
    with pytest.raises(UserError, match="ema must lie between 0"):
        TrainConfig(ema=1.0)
    assert TrainConfig().ema == 0.0
