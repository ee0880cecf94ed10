"""Synthetic occluders: hands, objects and pieces of other faces, cut from the user's own crops.

No labelled face-segmentation data can be had offline, so the segmenter learns what is *not*
face the way Nirkin et al. (2018) taught theirs: things pasted over faces with known masks.
Each occluder is an RGBA sprite, drawn once from the faces folders' crops (skin tones and
textures of the very video, so that colour alone never tells face from occluder); the training
task pastes them on the device with random place, size and angle (``paste_occluders``).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

KINDS = ("hand", "object", "face_piece")
KIND_SHARES = (0.45, 0.4, 0.15)


def make_occluders(crops_bgr: list[np.ndarray], labels: list[np.ndarray], count: int, size: int,
                   seed: int = 0) -> np.ndarray:
    """(count, 4, size, size) uint8 RGBA sprites drawn from aligned crops and their face labels."""
    rng = np.random.default_rng(seed)
    sprites = np.zeros((count, 4, size, size), np.uint8)
    kinds = rng.choice(len(KINDS), size=count, p=KIND_SHARES)
    for index, kind in enumerate(kinds):
        source = int(rng.integers(len(crops_bgr)))
        crop = _resized(crops_bgr[source], size)
        label = _resized(labels[source], size)
        rgb, alpha = _DRAW[KINDS[kind]](crop, label, size, rng)
        sprites[index, :3] = rgb[..., ::-1].transpose(2, 0, 1)  # BGR -> RGB, channels first
        sprites[index, 3] = alpha
    return sprites


def _resized(image: np.ndarray, size: int) -> np.ndarray:
    import cv2

    return image if image.shape[0] == size else cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


def _skin_colour(crop: np.ndarray, label: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    face = crop[label > 127]
    base = np.median(face, axis=0) if len(face) else np.array([120, 140, 180], np.float64)
    return np.clip(base * rng.uniform(0.75, 1.2) + rng.normal(0, 8, 3), 0, 255)


def _shaded_fill(colour: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A flat colour with a soft light gradient and fine noise, (size, size, 3) float."""
    import cv2

    ys, xs = np.mgrid[0:size, 0:size] / size
    angle = rng.uniform(0, 2 * math.pi)
    light = 1 + rng.uniform(0.1, 0.35) * ((xs - 0.5) * math.cos(angle) + (ys - 0.5) * math.sin(angle))
    noise = cv2.GaussianBlur(rng.normal(0, rng.uniform(3, 10), (size, size)).astype(np.float32), (0, 0), 1.2)
    return colour[None, None] * light[..., None] + noise[..., None]


def _draw_hand(crop: np.ndarray, label: np.ndarray, size: int, rng: np.random.Generator):
    """A palm and fingers (thick round-capped lines), skin-toned from a real face."""
    import cv2

    alpha = np.zeros((size, size), np.uint8)
    palm = (size * 0.5, size * 0.7)
    cv2.ellipse(alpha, (int(palm[0]), int(palm[1])), (int(size * rng.uniform(0.17, 0.24)), int(size * rng.uniform(0.2, 0.27))),
                rng.uniform(-20, 20), 0, 360, 255, -1, cv2.LINE_AA)
    fingers = int(rng.integers(2, 6))
    spread = rng.uniform(8, 22)
    width = int(size * rng.uniform(0.06, 0.09))
    edges = []
    for finger in range(fingers):
        angle = math.radians(-90 + (finger - (fingers - 1) / 2) * spread + rng.normal(0, 4))
        length = size * rng.uniform(0.3, 0.45)
        start = (palm[0] + (finger - (fingers - 1) / 2) * width * 1.1, palm[1] - size * 0.15)
        end = (start[0] + length * math.cos(angle), start[1] + length * math.sin(angle))
        segment = (tuple(int(v) for v in start), tuple(int(v) for v in end))
        cv2.line(alpha, *segment, 255, width, cv2.LINE_AA)
        edges.append(segment)
    fill = _shaded_fill(_skin_colour(crop, label, rng), size, rng)
    crease = tuple(float(v) * 0.7 for v in fill.mean(axis=(0, 1)))
    for start, end in edges[1:]:  # the dark creases between fingers
        cv2.line(fill, (start[0] - width // 2, start[1]), (end[0] - width // 2, end[1]), crease, 1, cv2.LINE_AA)
    return np.clip(fill, 0, 255).astype(np.uint8), alpha


def _draw_object(crop: np.ndarray, label: np.ndarray, size: int, rng: np.random.Generator):
    """A random shape (ellipse, box, polygon, bar) filled with a texture cut from a crop or a flat colour."""
    import cv2

    alpha = np.zeros((size, size), np.uint8)
    centre = np.array([size / 2, size / 2])
    shape = rng.integers(4)
    if shape == 0:
        cv2.ellipse(alpha, (size // 2, size // 2), (int(size * rng.uniform(0.15, 0.45)), int(size * rng.uniform(0.1, 0.45))),
                    rng.uniform(0, 180), 0, 360, 255, -1, cv2.LINE_AA)
    elif shape == 1:
        box = cv2.boxPoints(((size / 2, size / 2), (size * rng.uniform(0.2, 0.9), size * rng.uniform(0.15, 0.6)), rng.uniform(0, 180)))
        cv2.fillPoly(alpha, [np.round(box * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    elif shape == 2:
        corners = int(rng.integers(5, 10))
        angles = np.sort(rng.uniform(0, 2 * math.pi, corners))
        radii = size * rng.uniform(0.15, 0.45, corners)
        polygon = centre + np.stack([np.cos(angles), np.sin(angles)], 1) * radii[:, None]
        cv2.fillPoly(alpha, [np.round(polygon * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    else:
        cv2.line(alpha, (0, int(size * rng.uniform(0.3, 0.7))), (size - 1, int(size * rng.uniform(0.3, 0.7))), 255,
                 int(size * rng.uniform(0.06, 0.2)), cv2.LINE_AA)
    if rng.random() < 0.6:  # a texture from somewhere in a crop: hair, clothes, wall, skin
        scale = rng.uniform(0.3, 0.8)
        side = int(size * scale)
        x0, y0 = rng.integers(0, size - side + 1, 2)
        patch = cv2.resize(crop[y0:y0 + side, x0:x0 + side], (size, size), interpolation=cv2.INTER_LINEAR).astype(np.float64)
        fill = patch * rng.uniform(0.7, 1.3, 3)[None, None]
    else:
        fill = _shaded_fill(rng.uniform(0, 255, 3), size, rng)
    return np.clip(fill, 0, 255).astype(np.uint8), alpha


def _draw_face_piece(crop: np.ndarray, label: np.ndarray, size: int, rng: np.random.Generator):
    """An oval cut from a face crop: another face (or a hand-sized bit of skin) in front of this one."""
    import cv2

    alpha = np.zeros((size, size), np.uint8)
    cv2.ellipse(alpha, (size // 2, size // 2), (int(size * rng.uniform(0.2, 0.4)), int(size * rng.uniform(0.25, 0.45))),
                rng.uniform(-30, 30), 0, 360, 255, -1, cv2.LINE_AA)
    shift = rng.integers(-size // 5, size // 5 + 1, 2)
    piece = np.roll(crop, tuple(shift), axis=(0, 1))
    return piece, alpha


_DRAW = {"hand": _draw_hand, "object": _draw_object, "face_piece": _draw_face_piece}


def paste_occluders(images: torch.Tensor, labels: torch.Tensor, sprites: torch.Tensor, probability: float,
                    generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Paste a random sprite over a ``probability`` share of the faces, on their device.

    images N3HW and labels N1HW float in [0, 1]; sprites (K, 4, s, s) uint8 RGBA.
    Returns (images, labels with the occluded part removed, occluder alpha N1HW).
    """
    count, device = len(images), images.device
    size = images.shape[-1]
    chosen = torch.randint(len(sprites), (count,), generator=generator, device=device)
    used = (torch.rand(count, generator=generator, device=device) < probability).float().view(-1, 1, 1, 1)
    scale = 0.25 + 0.35 * torch.rand(count, generator=generator, device=device)  # sprite side / crop side (the face is ~0.6)
    angle = torch.rand(count, generator=generator, device=device) * 2 * math.pi
    centre = torch.stack([(torch.rand(count, generator=generator, device=device) - 0.5) * 1.0,
                          (torch.rand(count, generator=generator, device=device) - 0.35) * 1.1], dim=1)
    tint = 0.9 + 0.2 * torch.rand(count, 3, 1, 1, generator=generator, device=device)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    linear = torch.stack([torch.stack([cos, sin], 1), torch.stack([-sin, cos], 1)], 1)  # crop -> sprite
    offset = -(linear @ centre.unsqueeze(-1)).squeeze(-1)
    theta = torch.cat([linear, offset.unsqueeze(-1)], dim=2)
    grid = F.affine_grid(theta, [count, 4, size, size], align_corners=False)
    sprite = F.grid_sample(sprites[chosen].float() / 255, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    alpha = sprite[:, 3:4] * used
    colour = (sprite[:, :3] * tint).clamp(0, 1)
    return images * (1 - alpha) + colour * alpha, labels * (1 - alpha), alpha
