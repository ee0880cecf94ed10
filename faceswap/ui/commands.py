"""What the page asks for, as typed requests, and the CLI command line each one becomes.

Every path is workspace-relative on the way in and checked by ``Workspace.resolve``; the
commands get absolute paths inside the workspace. Builders are pure: (request, workspace) ->
(program, args, title, outputs shown by the page).
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from faceswap.errors import UserError
from faceswap.ui.workspace import Workspace

Command = tuple[str, list[str], str, dict[str, str]]
MASKS = ("auto", "segmenter", "outline", "hull", "learned", "combined")
COLOURS = ("mean_std_lab", "histogram", "none")


class ExtractRequest(BaseModel):
    input: str
    output: str
    debug_video: bool = True
    reference: str | None = None


class TrainRequest(BaseModel):
    faces_a: str
    faces_b: str
    model: str
    preset: str = "original"
    steps: int | None = Field(default=None, ge=1)
    minutes: float | None = Field(default=None, gt=0)
    save_every: int = Field(default=500, ge=1)
    log_every: int = Field(default=50, ge=1)
    segmenter: Literal["train", "none"] = "train"
    perceptual: bool = True
    resume: bool = False


class SwapChoices(BaseModel):
    """What a one-frame preview and a whole-video convert share."""
    input: str
    model: str
    alignments: str | None = None
    mask: Literal[MASKS] = "auto"  # type: ignore[valid-type]
    color: Literal[COLOURS] = "mean_std_lab"  # type: ignore[valid-type]


class PreviewRequest(SwapChoices):
    frame: int = Field(default=0, ge=0)


class ConvertRequest(SwapChoices):
    output: str


class EvaluateRequest(BaseModel):
    video: str
    reference: str
    model: str | None = None


class ClassifyRequest(BaseModel):
    action: Literal["dataset", "train", "eval", "predict", "inspect"]
    run: str
    data: str | None = None
    dataset: Literal["digits", "mnist-5k", "faces-vs-nonfaces"] = "digits"
    model: str = "lenet"
    epochs: int = Field(default=3, ge=1)
    image: str | None = None


def extract_command(request: ExtractRequest, workspace: Workspace) -> Command:
    source = workspace.resolve(request.input, must_exist=True)
    output = workspace.resolve(request.output)
    args = ["extract", "-i", str(source), "-o", str(output)]
    outputs = {"faces": workspace.relative(output)}
    if request.debug_video:
        debug = output.with_name(f"{output.name}_debug.mp4")
        args += ["--debug-video", str(debug)]
        outputs["debug_video"] = workspace.relative(debug)
    if request.reference:
        args += ["--reference", str(workspace.resolve(request.reference, must_exist=True))]
    return "faceswap", args, f"extract {request.input} -> {request.output}", outputs


def train_command(request: TrainRequest, workspace: Workspace) -> Command:
    faces_a = _faces_folder(workspace, request.faces_a)
    faces_b = _faces_folder(workspace, request.faces_b)
    model = workspace.resolve(request.model)
    args = ["train", "-A", str(faces_a), "-B", str(faces_b), "-m", str(model), "--preset", request.preset,
            "--save-every", str(request.save_every), "--log-every", str(request.log_every),
            "--segmenter", request.segmenter]
    if request.steps:
        args += ["--steps", str(request.steps)]
    if request.minutes:
        args += ["--minutes", str(request.minutes)]
    if not request.perceptual:
        args += ["--perceptual-weight", "0"]
    if request.resume:
        args.append("--resume")
    verb = "resume" if request.resume else "train"
    return "faceswap", args, f"{verb} {request.model}", {"model": workspace.relative(model)}


def convert_command(request: ConvertRequest, workspace: Workspace) -> Command:
    source = workspace.resolve(request.input, must_exist=True)
    model = _model_folder(workspace, request.model)
    output = workspace.resolve(request.output)
    if output.suffix.lower() != ".mp4":
        raise UserError(f"The output '{request.output}' should end in .mp4; name the swapped video, e.g. results/swapped.mp4.")
    side_by_side = output.with_name(f"{output.stem}_side_by_side.mp4")
    args = ["convert", "-i", str(source), "-m", str(model), "-o", str(output), "--mask", request.mask,
            "--color", request.color, "--side-by-side", str(side_by_side)]
    if request.alignments:
        args += ["--alignments", str(_faces_folder(workspace, request.alignments))]
    return "faceswap", args, f"convert {request.input} with {request.model}", {
        "video": workspace.relative(output), "side_by_side": workspace.relative(side_by_side), "input": request.input}


def evaluate_command(request: EvaluateRequest, workspace: Workspace) -> Command:
    video = workspace.resolve(request.video, must_exist=True)
    reference = workspace.resolve(request.reference, must_exist=True)
    report = video.with_name(f"{video.stem}_evaluate.json")
    args = ["evaluate", str(video), "--reference", str(reference), "--json", str(report)]
    if request.model:
        args += ["--model", str(_model_folder(workspace, request.model))]
    return "faceswap", args, f"evaluate {request.video}", {"report": workspace.relative(report)}


def classify_command(request: ClassifyRequest, workspace: Workspace) -> Command:
    run = workspace.resolve(request.run)
    outputs = {"run": workspace.relative(run)}
    if request.action == "dataset":
        return "classify", ["datasets", request.dataset, "--out", str(run)], f"classify dataset {request.dataset}", outputs
    if request.action == "train":
        data = workspace.resolve(_required(request.data, "an ImageFolder of training images (data)"), must_exist=True)
        args = ["train", "--data", str(data), "--model", request.model, "--out", str(run), "--epochs", str(request.epochs)]
        return "classify", args, f"classify train {request.model} -> {request.run}", outputs
    if request.action == "eval":
        data = workspace.resolve(_required(request.data, "an ImageFolder of test images (data)"), must_exist=True)
        return "classify", ["eval", str(run), "--data", str(data)], f"classify eval {request.run}", outputs
    image = workspace.resolve(_required(request.image, "an image"), must_exist=True)
    verb = "predict" if request.action == "predict" else "inspect"
    return "classify", [verb, str(run), str(image)], f"classify {verb} {request.run}", outputs


def _faces_folder(workspace: Workspace, relative: str) -> Path:
    folder = workspace.resolve(relative, must_exist=True)
    if not (folder / "alignments.json").is_file():
        raise UserError(f"'{relative}' is not a faces folder (no alignments.json); extract faces into it first.")
    return folder


def _model_folder(workspace: Workspace, relative: str) -> Path:
    folder = workspace.resolve(relative, must_exist=True)
    if not (folder / "model.json").is_file():
        raise UserError(f"'{relative}' is not a trained model folder (no model.json); train one on the Train tab first.")
    return folder


def _required(value: str | None, what: str) -> str:
    if not value:
        raise UserError(f"This action needs {what}; fill in that field.")
    return value
