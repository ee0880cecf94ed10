"""The ``masker`` plugin family: a face-region mask for an aligned face.

A masker is a class registered with ``@register("masker", name)``, built without arguments,
with ``needs_landmarks`` (5 or 68: the fewest landmarks it works from) and
``mask(landmarks_crop_xy, template, size) -> (size, size) uint8`` where the landmarks are
already in aligned-crop pixels.
"""
