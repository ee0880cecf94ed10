"""ExtractConfig: every setting of the extract stage, and the one source of its defaults."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from faceswap.errors import UserError
from faceswap.runtime import check_device_name
from faceswap.extract.reference import DISTANCE_HELP, REFERENCE_HELP
from faceswap.extract.selection import SELECT_DEFAULT, SELECT_HELP, check_reference_choice, parse_selection


@dataclass(frozen=True)
class ExtractConfig:
    input: str = field(default="", metadata={"help": "video file, image file or folder of images", "cli": False})
    output_dir: str = field(default="", metadata={"help": "faces folder to write (faces/, masks/, alignments.json)", "cli": False})
    detector: str = field(default="centerface", metadata={"help": "face detector plugin (see `faceswap plugins`)"})
    aligner: str = field(default="five_point", metadata={"help": "landmark plugin: five_point (the detector's) or fan68"})
    hands: str = field(default="mediapipe", metadata={
        "help": "hand finder plugin (see `faceswap plugins`): hands near the faces go into the alignments, so the segmenter "
                "learns they are not face and convert keeps them in front; or none"})
    masker: str = field(default="auto", metadata={"help": "mask plugin: outline, hull, segmenter (needs --segmenter), or auto (hull for 68 points, else outline)"})
    segmenter: str | None = field(default=None, metadata={"help": "trained segmenter folder for --masker segmenter (from `faceswap mask train` or MODEL_DIR/segmenter)"})
    min_face_size: int = field(default=40, metadata={"help": "ignore faces whose box is smaller than this, in frame pixels"})
    score_threshold: float = field(default=0.5, metadata={"help": "minimum detector confidence, 0..1"})
    detect_size: int = field(default=256, metadata={"help": "frames are shrunk so the longer side is about this many pixels before detection, but never so far that faces of --min-face-size are lost (0: full size)"})
    batch_size: int = field(default=4, metadata={"help": "frames per detector call"})
    device: str = field(default="auto", metadata={"help": "auto, cpu or cuda (for the torch-based plugins)"})
    threads: int = field(default=0, metadata={"help": "compute threads; 0 keeps the library default"})
    select: str = field(default=SELECT_DEFAULT, metadata={"help": f"whose faces to keep: {SELECT_HELP}; the same default as convert's"})
    reference: tuple[str, ...] = field(default=(), metadata={"help": REFERENCE_HELP})
    reference_distance: float = field(default=0.0, metadata={"help": DISTANCE_HELP})
    smooth: bool = field(default=True, metadata={"help": "smooth landmarks along each track (One-Euro filter)"})
    smooth_min_cutoff: float = field(default=1.0, metadata={"help": "One-Euro cutoff in Hz at rest: lower removes more jitter"})
    smooth_beta: float = field(default=30.0, metadata={"help": "One-Euro speed coefficient: higher follows fast motion with less lag"})
    size: int = field(default=256, metadata={"help": "aligned face size in pixels"})
    face_format: Literal["jpg", "png"] = field(default="jpg", metadata={"help": "file format of the aligned faces: jpg (quality 95, full colour resolution: visually lossless, 4x smaller and 6x faster to write and read than png) or png (lossless); masks are always png"})
    coverage: float = field(default=0.85, metadata={"help": "how much of the crop the face fills (template coverage)"})
    every: int = field(default=1, metadata={"help": "run the detector on every Nth frame and follow faces (optical flow) in between"})
    resume: bool = field(default=False, metadata={"help": "continue an interrupted run in the same faces folder"})
    overwrite: bool = field(default=False, metadata={"help": "delete what the faces folder holds and start again"})
    debug_video: str | None = field(default=None, metadata={"help": "also write the input with boxes, landmarks and track ids drawn to this file"})
    save_every: int = field(default=100, metadata={"help": "save the alignments file (complete=false) every N frames, for --resume"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar", "cli": False})

    def __post_init__(self) -> None:
        parse_selection(self.select)
        check_device_name(self.device)
        if isinstance(self.reference, (str, list)):  # from Python: one path, or a list
            object.__setattr__(self, "reference", (self.reference,) if isinstance(self.reference, str) else tuple(self.reference))
        check_reference_choice(self.select, self.reference, self.reference_distance)
        for name in ("batch_size", "every", "size", "save_every"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} must be at least 1, not {getattr(self, name)}.")
        if not 0.0 <= self.score_threshold <= 1.0:
            raise UserError(f"--score-threshold must be between 0 and 1, not {self.score_threshold}.")
        if not 0.1 <= self.coverage <= 2.0:
            raise UserError(f"--coverage must be between 0.1 and 2, not {self.coverage}.")
        if self.face_format not in ("jpg", "png"):
            raise UserError(f"--face-format must be jpg or png, not {self.face_format!r}.")
        if self.resume and self.overwrite:
            raise UserError("--resume and --overwrite contradict each other; pick one.")
