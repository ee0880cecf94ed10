"""Per-face work of convert: aligned crops in, swapped and blended faces out, batched on the device."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceswap.align.template import Template
from faceswap.align.transform import rescale, transform_points, warp_to_crop
from faceswap.convert.blend import cut_out, feathered_mask, paste_face
from faceswap.convert.config import ConvertConfig
from faceswap.convert.masks import MaskChoice, build_masker, combine
from faceswap.convert.paste_torch import paste_face_torch
from faceswap.convert.shape_warp import ShapeKeeper
from faceswap.convert.sharpen import unsharp
from faceswap.hands.drawing import hands_mask

MIN_BLEND_SIZE = 128  # masks and colour matching work at least at this crop size, for smooth edges


@dataclass
class FaceJob:
    """One face of one frame on its way through the model."""

    track_id: int
    matrix_blend: np.ndarray  # frame -> crop of blend_size pixels
    landmarks_blend: np.ndarray  # (N, 2) in blend-crop pixels
    model_input_bgr_uint8: np.ndarray  # (resolution, resolution, 3)
    mask_input_bgr_uint8: np.ndarray | None = None  # the masker's own crop size, when it looks at images
    hands_blend: np.ndarray | None = None  # (blend, blend) uint8: hands in front of this face, kept out of the mask


class FaceSwapper:
    """Runs the model (and the masker) on batches of aligned faces and pastes the results back into frames."""

    def __init__(self, model, direction: str, device, resolution: int, template: Template, config: ConvertConfig,
                 channels_rgb: bool = False, mask_choice: MaskChoice | None = None):
        from faceswap.convert.choices import choose_paste
        from faceswap.convert.color import create
        from faceswap.convert.masks import choose_mask
        from faceswap.engine.precision import resolve_precision
        from faceswap.face_mesh import load_mesh
        from faceswap.hands import load_finder

        self.model, self.direction, self.device = model, direction, device
        self.precision = resolve_precision(config.precision, device)  # autocast of the model call only
        self.paste_kind = choose_paste(config.paste, device.type, config.seamless)
        self.resolution, self.template, self.config = resolution, template, config
        self.blend_size = max(resolution, MIN_BLEND_SIZE)
        self.channels_rgb = channels_rgb
        self.color_matcher = create(config.color, config.color_smoothing)
        self.mask_choice = mask_choice or choose_mask(config.mask, config.model_dir, config.segmenter)
        self.masker = build_masker(self.mask_choice, device)
        segmenter = getattr(self.masker, "segmenter", None)
        self.mask_input_size = segmenter.resolution if segmenter is not None else resolution
        self.hand_finder = load_finder(config.hands)
        mesh = load_mesh(config.feature_mesh)
        self.shape_keeper = ShapeKeeper(mesh, config.keep_shape, config.keep_expression) if mesh is not None else None
        self.expression_kept = 0  # faces warped towards the original's features
        self.hand_frames = 0
        self.frames_in_order = True  # False for pictures: each is looked at on its own (no hand or face track carried over)

    def find_hands(self, frame_bgr_uint8: np.ndarray, face_boxes, stored: list[np.ndarray] | None = None) -> list[np.ndarray]:
        """The hands near these faces in one frame ((21, 2) points each): those extract stored in the
        alignments, else found now (frames in order: the finder follows a hand from frame to frame)."""
        if self.hand_finder is None:
            return []
        if stored is None and not self.frames_in_order:
            self.hand_finder.reset()
        hands = stored if stored is not None else self.hand_finder.find(frame_bgr_uint8, face_boxes)
        self.hand_frames += bool(hands)
        return hands

    @property
    def mask_fallbacks(self) -> int:
        """Faces whose segmentation failed and that were blended through the landmark outline instead."""
        return int(getattr(self.masker, "fallbacks", 0))

    def prepare(self, frame_bgr_uint8: np.ndarray, landmarks_xy: np.ndarray, matrix_frame_to_crop: np.ndarray,
                matrix_size: int, track_id: int, hands: list[np.ndarray] = ()) -> FaceJob:
        """Cut the model's aligned input (and the masker's, when it needs another size) out of the frame,
        and draw the frame's hands (``find_hands``) in the blend crop."""
        matrix_model = rescale(matrix_frame_to_crop, matrix_size, self.resolution)
        matrix_blend = rescale(matrix_frame_to_crop, matrix_size, self.blend_size)
        job = FaceJob(track_id=track_id, matrix_blend=matrix_blend,
                      landmarks_blend=transform_points(landmarks_xy, matrix_blend).astype(np.float32),
                      model_input_bgr_uint8=warp_to_crop(frame_bgr_uint8, matrix_model, self.resolution),
                      hands_blend=hands_mask(list(hands), matrix_blend, self.blend_size))
        if getattr(self.masker, "needs_image", False) and self.mask_input_size != self.resolution:
            matrix_mask = rescale(matrix_frame_to_crop, matrix_size, self.mask_input_size)
            job.mask_input_bgr_uint8 = warp_to_crop(frame_bgr_uint8, matrix_mask, self.mask_input_size)
        return job

    def run_model(self, jobs: list[FaceJob]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(N, res, res, 3) uint8 BGR swapped faces, (N, res, res) float32 learned masks and
        (N, blend, blend) uint8 masks of the masker (None for the learned mask alone)."""
        import torch

        crops_NHWC = np.stack([job.model_input_bgr_uint8 for job in jobs])
        model_crops = crops_NHWC[..., ::-1] if self.channels_rgb else crops_NHWC
        batch = torch.from_numpy(np.ascontiguousarray(model_crops)).to(self.device, non_blocking=True)
        faces_NCHW = batch.permute(0, 3, 1, 2).float().div_(255.0)
        with torch.inference_mode():
            with self.precision.autocast():
                swapped_NCHW, masks_N1HW = self.model.swap(faces_NCHW, self.direction)
            swapped_NHWC = swapped_NCHW.float().clamp(0, 1).mul(255).add(0.5).to(torch.uint8).permute(0, 2, 3, 1)
            masks_NHW = masks_N1HW.float().clamp(0, 1)[:, 0]
        swapped, masks = swapped_NHWC.cpu().numpy(), masks_NHW.cpu().numpy()
        if self.channels_rgb:
            swapped = swapped[..., ::-1]
        swapped = np.ascontiguousarray(swapped)
        if self.shape_keeper is not None:
            tracks = [job.track_id for job in jobs] if self.frames_in_order else None
            swapped, masks, warped = self.shape_keeper.apply(crops_NHWC, swapped, masks, tracks)
            self.expression_kept += warped
        return swapped, masks, self._masker_masks(jobs, crops_NHWC)

    def _masker_masks(self, jobs: list[FaceJob], crops_NHWC: np.ndarray) -> np.ndarray | None:
        if self.masker is None:
            return None
        crops = None
        if self.masker.needs_image:
            crops = crops_NHWC if jobs[0].mask_input_bgr_uint8 is None else np.stack([job.mask_input_bgr_uint8 for job in jobs])
        return self.masker.masks(crops, [job.landmarks_blend for job in jobs], self.template, self.blend_size)

    def paste(self, frame_bgr_uint8: np.ndarray, job: FaceJob, swapped_bgr_uint8: np.ndarray,
              learned_mask: np.ndarray, masker_mask: np.ndarray | None) -> None:
        """Mask, colour-match and blend one swapped face into its frame (in place)."""
        face, mask = self.finish_crop(job, swapped_bgr_uint8, learned_mask, masker_mask)
        self.paste_into(frame_bgr_uint8, face, mask, job.matrix_blend)

    def finish_crop(self, job: FaceJob, swapped_bgr_uint8: np.ndarray, learned_mask: np.ndarray,
                    masker_mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(face, feathered mask) at ``blend_size``: the crop-space work, to be called in frame order
        (colour statistics carry over from frame to frame per track).

        Colour statistics are taken at the model's resolution (enough for means and
        histograms); the mask is built at ``blend_size`` so its feathered edge stays smooth.
        """
        import cv2

        size, config = self.blend_size, self.config
        if size != self.resolution:
            learned_mask = cv2.resize(learned_mask, (size, size), interpolation=cv2.INTER_LINEAR)
        mask = feathered_mask(combine(self.mask_choice, learned_mask, masker_mask), config.erode, config.blur)
        if job.hands_blend is not None:
            mask = cut_out(mask, job.hands_blend)
        mask_model = mask if size == self.resolution else cv2.resize(mask, (self.resolution,) * 2, interpolation=cv2.INTER_AREA)
        corrected = self.color_matcher(swapped_bgr_uint8, job.model_input_bgr_uint8, mask_model, job.track_id)
        if size != self.resolution:
            corrected = cv2.resize(corrected, (size, size), interpolation=cv2.INTER_CUBIC)
        return unsharp(corrected, config.sharpen, size / self.resolution), mask

    def paste_into(self, frame_bgr_uint8: np.ndarray, face_bgr_uint8: np.ndarray, mask_float01: np.ndarray,
                   matrix_blend: np.ndarray) -> None:
        """Warp the finished crop into the frame and blend it (in place): OpenCV, or torch on the model's
        device. Stateless, so paste workers may run it for several frames at once."""
        if self.paste_kind == "torch":
            paste_face_torch(frame_bgr_uint8, face_bgr_uint8, mask_float01, matrix_blend, self.device)
        else:
            paste_face(frame_bgr_uint8, face_bgr_uint8, mask_float01, matrix_blend, seamless=self.config.seamless)
