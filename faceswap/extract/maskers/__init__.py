"""The ``masker`` plugin family: a face-region mask for aligned faces, in batches.

A masker is a class registered with ``@register("masker", name)`` and built with keyword
options it may ignore: ``segmenter_dir`` (a trained segmenter folder) and ``device``. It has
``needs_landmarks`` (5 or 68: the fewest landmarks it works from), ``needs_image`` (whether it
looks at the crops or only at the landmarks) and
``masks(crops_bgr_NHWC_uint8, landmarks_crop_xy, template, size) -> (N, size, size) uint8``:
crops are aligned faces of any square size (``None`` is allowed when ``needs_image`` is
False), landmarks a list of (K, 2) arrays already in ``size``-crop pixels, 255 inside the face.
Extract stores what its masker draws; convert blends through the masker it is given.
"""
