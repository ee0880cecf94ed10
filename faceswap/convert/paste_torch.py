"""Pasting a face crop back into the frame with torch (``grid_sample``), on any device: the GPU twin of
``blend.paste_face``.

The work that grows with the frame (warping the face and its mask over the face's box in the frame,
and the blend) runs where the model runs; the crop-size work before it (feathering, colour matching)
stays shared with the OpenCV path. Same geometry as OpenCV: pixel centres at integer coordinates
(``align_corners=True``), the face's border replicated, the mask zero outside the crop, and every
frame pixel where the warped mask is 0 kept bit for bit.
"""
from __future__ import annotations

import numpy as np

from faceswap.convert.blend import mask_box_in_frame


def paste_face_torch(frame_bgr_uint8: np.ndarray, face_bgr_uint8: np.ndarray, mask_float01: np.ndarray,
                     matrix_frame_to_crop: np.ndarray, device) -> None:
    """Blend an aligned crop (and its crop-space mask) into the frame in place, computed on ``device``."""
    import torch

    roi = mask_box_in_frame(mask_float01, matrix_frame_to_crop, frame_bgr_uint8.shape)
    if roi is None:
        return
    x0, y0, x1, y1 = roi
    with torch.inference_mode():
        grid = _sampling_grid(matrix_frame_to_crop, roi, face_bgr_uint8.shape[0], device)
        face_13SS = torch.from_numpy(face_bgr_uint8).to(device, non_blocking=True).permute(2, 0, 1)[None].float()
        mask_11SS = torch.from_numpy(mask_float01).to(device, non_blocking=True)[None, None].float()
        target_HW3 = torch.from_numpy(frame_bgr_uint8[y0:y1, x0:x1]).to(device, non_blocking=True).float()
        sample = torch.nn.functional.grid_sample
        face_HW3 = sample(face_13SS, grid, mode="bilinear", padding_mode="border", align_corners=True)[0].permute(1, 2, 0)
        mask_HW1 = sample(mask_11SS, grid, mode="bilinear", padding_mode="zeros", align_corners=True)[0].permute(1, 2, 0)
        blended = (face_HW3 * mask_HW1 + target_HW3 * (1.0 - mask_HW1)).round_().clamp_(0, 255).to(torch.uint8)
        frame_bgr_uint8[y0:y1, x0:x1] = blended.cpu().numpy()


def _sampling_grid(matrix_frame_to_crop: np.ndarray, roi: tuple[int, int, int, int], crop_size: int, device):
    """(1, h, w, 2) where each frame pixel of ``roi`` lies in the crop, in grid_sample's [-1, 1] units."""
    import torch

    x0, y0, x1, y1 = roi
    matrix = torch.as_tensor(np.asarray(matrix_frame_to_crop, np.float64), dtype=torch.float32, device=device)
    ys, xs = torch.meshgrid(torch.arange(y0, y1, device=device, dtype=torch.float32),
                            torch.arange(x0, x1, device=device, dtype=torch.float32), indexing="ij")
    crop_xy = torch.stack([xs, ys, torch.ones_like(xs)], dim=-1) @ matrix.T  # (h, w, 2) crop pixels
    return (crop_xy * (2.0 / (crop_size - 1)) - 1.0)[None]
