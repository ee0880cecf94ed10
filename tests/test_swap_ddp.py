"""Two-process DDP on the CPU (gloo, through torchrun): a few steps, and both ranks end identical."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import torch
from safetensors.torch import load_file

from test_swap_support import TINY_MODEL, faces_subset

SCRIPT = """
import sys
from safetensors.torch import save_file
from faceswap.swap import SwapTrainConfig, train_swap

faces_a, faces_b, model_dir, out_dir = sys.argv[1:5]

class SaveRankWeights:
    def on_train_end(self, trainer, metrics):
        state = {name: tensor.detach().contiguous() for name, tensor in trainer.task.state_dict().items()}
        save_file(state, f"{out_dir}/rank{trainer.rank}.safetensors")

train_swap(SwapTrainConfig(faces_a=faces_a, faces_b=faces_b, model_dir=model_dir, steps=4, batch_size=4,
                           eval_every=2, save_every=2, min_faces=10, threads=1, device="cpu", progress=False, segmenter="none",
                           encoder_widths=%(encoder_widths)r, bottleneck=%(bottleneck)r, decoder_widths=%(decoder_widths)r),
           callbacks=[SaveRankWeights()])
"""


def test_two_process_ddp_keeps_ranks_identical(extracted_faces, tmp_path):
    faces = {side: faces_subset(extracted_faces[side], tmp_path / side, 16) for side in "ab"}
    script = tmp_path / "ddp_train.py"
    script.write_text(textwrap.dedent(SCRIPT % TINY_MODEL))
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                             str(script), str(faces["a"]), str(faces["b"]), str(tmp_path / "model"), str(tmp_path)],
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    rank0, rank1 = load_file(str(tmp_path / "rank0.safetensors")), load_file(str(tmp_path / "rank1.safetensors"))
    assert rank0.keys() == rank1.keys()
    assert all(torch.equal(rank0[key], rank1[key]) for key in rank0)
    state = json.loads((tmp_path / "model" / "training" / "checkpoints" / "step_00000004" / "state.json").read_text())
    assert state["world_size"] == 2 and state["step"] == 4
    initial = load_file(str(tmp_path / "model" / "model.safetensors"))
    assert (tmp_path / "model" / "preview.png").is_file() and initial.keys()
