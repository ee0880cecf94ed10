"""Batch augmentation on the training device, so that a GPU never waits for the CPU.

One random affine per face (rotation, zoom, shift, horizontal flip) is applied to the input and
the target alike, as is the colour jitter. The input alone is also pushed through a random
warp: offsets on a coarse grid (``warp_grid`` points a side, 5 by default), upsampled, move the
sampling points. The model thus learns to rebuild a clean face from a distorted one, which is
what makes the shared encoder generalise across the two people. A share of the faces
(``blink``) also has its eyes closed by a warp (blink.py), input and target alike, so that each
decoder learns closed eyes even where its person's footage holds few. All of it is a single
``grid_sample`` per tensor.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from faceswap import augment as shared
from faceswap.swap.blink import blink_offsets, random_closure
from faceswap.swap.models.autoencoder import resize_faces


@dataclass(frozen=True)
class AugmentSettings:
    warp: float = 0.03  # std of the coarse-grid offsets, in normalised units (the image spans 2)
    rotation: float = 10.0  # degrees, +-
    zoom: float = 0.05  # +- fraction
    shift: float = 0.05  # +- fraction of the size
    flip: float = 0.5  # probability
    colour: float = 0.1  # brightness / contrast / saturation jitter, +- fraction
    warp_grid: int = 5  # coarse-grid points per side: more give finer, more local distortions
    blink: float = 0.0  # share of faces whose eyes a warp closes (input and target)
    ramp_calls: int = 3000  # calls over which rotation/zoom/shift/flip/colour grow from 0 to full

    def at(self, calls: int) -> "AugmentSettings":
        """Progressive augmentation: the geometric and colour ranges scaled by training progress.

        Faces are learnt first and robustness to pose and light is added as training goes on
        (as in progressive learning, EfficientNetV2); the random warp, the heart of the method,
        is at full strength from the first step.
        """
        scale = 1.0 if self.ramp_calls <= 0 else min(1.0, calls / self.ramp_calls)
        return replace(self, rotation=self.rotation * scale, zoom=self.zoom * scale, shift=self.shift * scale,
                       flip=self.flip * scale, colour=self.colour * scale, ramp_calls=0)


@dataclass
class AugmentedBatch:
    inputs: torch.Tensor  # N3HW float [0, 1]: warped, for the model
    targets: torch.Tensor  # N3HW float [0, 1]: not warped, what the model should draw
    masks: torch.Tensor  # N1HW float [0, 1]: target face mask
    weights: torch.Tensor  # N1HW float: region loss weights (eyes, mouth) moved with the face
    inside: torch.Tensor  # N1HW float [0, 1]: target pixels that show the frame, not padding or the warp's border


def random_affine(count: int, settings: AugmentSettings, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """(N, 2, 3) affine matrices from output to input normalised coordinates."""
    return shared.random_affine(count, settings.rotation, settings.zoom, settings.shift, settings.flip, generator, device)


def random_warp_offsets(count: int, size: int, settings: AugmentSettings, generator: torch.Generator,
                        device: torch.device) -> torch.Tensor:
    """(N, size, size, 2) smooth offsets: random normals on a coarse grid, upsampled bilinearly."""
    coarse = torch.randn(count, 2, settings.warp_grid, settings.warp_grid, generator=generator, device=device) * settings.warp
    return F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=True).permute(0, 2, 3, 1)


def colour_jitter(images: list[torch.Tensor], settings: AugmentSettings, generator: torch.Generator) -> list[torch.Tensor]:
    """The same random brightness, contrast and saturation change for each image list entry (N3HW)."""
    return shared.colour_jitter(images, settings.colour, generator)


def augment(faces_uint8: torch.Tensor, region_weights: torch.Tensor, size: int, settings: AugmentSettings,
            generator: torch.Generator, eye_centres: torch.Tensor | None = None) -> AugmentedBatch:
    """faces_uint8: (N, 4 or 5, S, S) RGB + mask (+ inside-frame mask); region_weights: (1, 1, S, S);
    eye_centres: (2, 2) the template's eyes in normalised coordinates (needed for ``settings.blink``).
    Output at ``size``."""
    count, device = len(faces_uint8), faces_uint8.device
    faces = with_inside(faces_uint8.float() / 255)
    stacked = torch.cat([faces, region_weights.to(device).expand(count, -1, -1, -1)], dim=1)
    theta = random_affine(count, settings, generator, device)
    grid = F.affine_grid(theta, [count, 6, size, size], align_corners=False)
    if settings.blink > 0 and eye_centres is not None:
        closure = random_closure(count, settings.blink, generator, device)
        grid = grid + blink_offsets(grid, eye_centres.to(device), closure)
    targets = F.grid_sample(stacked, grid, mode="bilinear", padding_mode="border", align_corners=False)
    # What the affine brings in from beyond the crop is border replication, not face: mark it outside.
    inside = targets[:, 4:5] * F.grid_sample(torch.ones_like(stacked[:, :1]), grid, mode="bilinear", padding_mode="zeros",
                                             align_corners=False)
    if settings.warp > 0:
        grid = grid + random_warp_offsets(count, size, settings, generator, device)
    inputs = F.grid_sample(faces[:, :3], grid, mode="bilinear", padding_mode="border", align_corners=False)
    inputs, target_faces = colour_jitter([inputs, targets[:, :3]], settings, generator)
    return AugmentedBatch(inputs, target_faces, targets[:, 3:4], targets[:, 5:6], inside)


def plain(faces_uint8: torch.Tensor, region_weights: torch.Tensor, size: int) -> AugmentedBatch:
    """No augmentation (validation, previews): resized faces as both input and target."""
    count = len(faces_uint8)
    faces = with_inside(faces_uint8.float() / 255)
    stacked = torch.cat([faces, region_weights.to(faces_uint8.device).expand(count, -1, -1, -1)], dim=1)
    stacked = resize_faces(stacked, size)
    return AugmentedBatch(stacked[:, :3], stacked[:, :3], stacked[:, 3:4], stacked[:, 5:6], stacked[:, 4:5])


def with_inside(faces: torch.Tensor) -> torch.Tensor:
    """RGB + mask (+ inside-frame mask): faces without the fifth channel are inside everywhere."""
    if faces.shape[1] >= 5:
        return faces[:, :5]
    return torch.cat([faces[:, :4], torch.ones_like(faces[:, :1])], dim=1)
