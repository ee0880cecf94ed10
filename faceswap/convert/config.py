"""Settings of `faceswap convert`: one frozen dataclass, the source of every default and flag."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from faceswap.errors import UserError
from faceswap.runtime import check_device_name
from faceswap.extract.reference import DISTANCE_HELP, REFERENCE_HELP
from faceswap.extract.selection import SELECT_DEFAULT, SELECT_HELP, check_reference_choice, parse_selection


@dataclass(frozen=True)
class ConvertConfig:
    input: str = field(default="", metadata={"help": "video, image or image folder to convert", "cli": False})
    model_dir: str = field(default="", metadata={"help": "trained swap model folder", "cli": False})
    output: str = field(default="", metadata={"help": "output video path (.mp4)", "cli": False})
    alignments: str | None = field(default=None, metadata={
        "help": "alignments.json (or its faces folder) from an earlier extract of the input; "
                "without it faces are found on the fly"})
    detector: str = field(default="centerface", metadata={
        "help": "face detector plugin for faces found on the fly (without --alignments); see `faceswap plugins`"})
    writer: str = field(default="auto", metadata={
        "help": "video_writer plugin for the output: auto is png_folder for an output path without a suffix "
                "(a folder of frames) and mp4 otherwise; or any registered name (see `faceswap plugins`)"})
    swap: Literal["a2b", "b2a"] = field(default="a2b", metadata={"help": "direction: render side A's faces as B, or B's as A"})
    select: str = field(default=SELECT_DEFAULT, metadata={"help": f"whose faces to swap: {SELECT_HELP}; the same default as extract's"})
    reference: tuple[str, ...] = field(default=(), metadata={"help": REFERENCE_HELP})
    reference_distance: float = field(default=0.0, metadata={"help": DISTANCE_HELP})
    mask: str = field(default="auto", metadata={
        "help": "blend mask: auto (the model folder's segmenter when it has one, else combined), segmenter, "
                "outline, hull (any masker plugin), learned (the model's own mask), or combined (learned within the landmark outline)"})
    segmenter: str | None = field(default=None, metadata={
        "help": "segmenter folder for --mask segmenter/auto (default: MODEL_DIR/segmenter)"})
    hands: str = field(default="mediapipe", metadata={
        "help": "hand finder plugin (see `faceswap plugins`) whose hands stay in front of the swapped face, or none"})
    keep_expression: float = field(default=1.0, metadata={
        "help": "move the swapped face's eyelids, brows, lips and jaw with the original's expression (found by --face-mesh): "
                "the share of what changes from frame to frame taken over, 1 all, 0 none"})
    keep_shape: float = field(default=0.5, metadata={
        "help": "... and the share of the original's steady face shape taken over (eye spacing, nose, jaw): "
                "1 her shape drawn as him, 0 his own shape"})
    face_mesh: str = field(default="mediapipe", metadata={
        "help": "face mesh plugin for --keep-expression and --keep-shape (see `faceswap plugins`), or none"})
    erode: float = field(default=1.0, metadata={"help": "shrink the mask by this percent of the face crop before feathering (0..25)"})
    blur: float = field(default=4.0, metadata={
        "help": "feather the mask edge inward over this percent of the face crop: the blend never reaches past the mask"})
    color: str = field(default="mean_std_lab", metadata={"help": "colour matcher plugin (see `faceswap plugins`): none, mean_std_lab, histogram"})
    color_smoothing: float = field(default=0.8, metadata={
        "help": "0..1: weight of the previous frames' colour statistics per track (against flicker)"})
    # 0.5 sharpens what the model drew without ringing: on the demo's swap the detail kept rose from
    # 12.8% to 19.2% with identity, expression and the seam unchanged; 1 starts to look etched.
    sharpen: float = field(default=0.5, metadata={
        "help": "unsharp-mask the swapped face after scaling it up, by this amount (0: off, up to 3), at the scale of one model pixel"})
    seamless: bool = field(default=False, metadata={"help": "Poisson-blend the face in (cv2.seamlessClone) before feathering"})
    frames: str | None = field(default=None, metadata={"help": "convert only frames START:END (END exclusive, either may be empty)"})
    preview: int = field(default=0, metadata={"help": "write this many before/after PNG frames beside the output"})
    side_by_side: str | None = field(default=None, metadata={"help": "also write a before|after comparison video here"})
    batch_size: int = field(default=16, metadata={"help": "faces per model call, gathered across frames"})
    device: str = field(default="auto", metadata={"help": "auto, cpu, cuda, cuda:N or mps"})
    precision: Literal["auto", "fp32", "bf16", "fp16"] = field(default="auto", metadata={
        "help": "the swap model's arithmetic: auto is bf16 autocast on CUDA (fp16 where bf16 is missing), fp32 elsewhere"})
    paste: Literal["auto", "opencv", "torch"] = field(default="auto", metadata={
        "help": "what warps the swapped faces and masks back into the frame and blends them: auto is torch "
                "(grid_sample on the model's device) on CUDA and OpenCV elsewhere"})
    paste_workers: int = field(default=0, metadata={
        "help": "threads that paste faces into frames while the next frames are decoded and swapped, frame order kept "
                "(0 = auto: one per two CPU cores, at most 4, and none below 4 cores, where a worker only competes with the encoder)"})
    threads: int = field(default=0, metadata={"help": "CPU threads for torch/OpenCV (0 = library default)"})
    encoder: Literal["auto", "x264", "nvenc", "nvenc_hevc"] = field(default="auto", metadata={
        "help": "video encoder of .mp4 outputs: x264 (libx264), nvenc (H.264 on an NVIDIA GPU), nvenc_hevc (H.265); "
                "auto is nvenc on a CUDA device and x264 elsewhere; NVENC that cannot open falls back to x264 with a warning"})
    crf: int = field(default=18, metadata={"help": "encoder quality (lower is better, 18 is visually lossless; NVENC's cq)"})
    encoder_preset: str = field(default="medium", metadata={"help": "x264 speed preset (ultrafast .. veryslow); NVENC uses its own p4"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})

    @property
    def feature_mesh(self) -> str:
        """The face mesh that --keep-expression and --keep-shape need: ``none`` when both are 0."""
        from faceswap.face_mesh import NO_MESH

        return self.face_mesh if self.keep_expression > 0 or self.keep_shape > 0 else NO_MESH

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise UserError(f"--batch-size must be at least 1, not {self.batch_size}.")
        if not 0.0 <= self.color_smoothing < 1.0:
            raise UserError(f"--color-smoothing must be in [0, 1), not {self.color_smoothing}.")
        if not 0 <= self.blur <= 25:
            raise UserError(f"--blur must be between 0 and 25 (percent of the face crop), not {self.blur}.")
        if not 0 <= self.erode <= 25:
            raise UserError(f"--erode must be between 0 and 25 (percent of the face crop), not {self.erode}; "
                            "the mask only shrinks, so that nothing outside the face changes.")
        for name, value in (("--keep-expression", self.keep_expression), ("--keep-shape", self.keep_shape)):
            if not 0 <= value <= 1:
                raise UserError(f"{name} must be between 0 (none) and 1 (all), not {value}.")
        if not 0 <= self.sharpen <= 3:
            raise UserError(f"--sharpen must be between 0 and 3, not {self.sharpen}.")
        if not 0 <= self.crf <= 51:
            raise UserError(f"--crf must be between 0 and 51, not {self.crf}.")
        if self.paste_workers < 0:
            raise UserError(f"--paste-workers must be 0 (auto) or more, not {self.paste_workers}.")
        if self.preview < 0:
            raise UserError(f"--preview must be 0 or more, not {self.preview}.")
        parse_selection(self.select)
        check_device_name(self.device)
        if isinstance(self.reference, (str, list)):  # from Python: one path, or a list
            object.__setattr__(self, "reference", (self.reference,) if isinstance(self.reference, str) else tuple(self.reference))
        check_reference_choice(self.select, self.reference, self.reference_distance)
        parse_frame_range(self.frames)


def parse_frame_range(frames: str | None) -> tuple[int, int | None]:
    """'START:END' -> (start, end or None); END is exclusive."""
    if not frames:
        return 0, None
    try:
        start_text, end_text = frames.split(":")
        start = int(start_text) if start_text.strip() else 0
        end = int(end_text) if end_text.strip() else None
    except ValueError:
        raise UserError(f"--frames '{frames}' is not understood; use START:END frame numbers, e.g. 100:250.") from None
    if start < 0 or (end is not None and end <= start):
        raise UserError(f"--frames '{frames}' is empty or negative; use START:END with 0 <= START < END.")
    return start, end
