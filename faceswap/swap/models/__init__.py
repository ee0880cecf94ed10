"""Swap models: the ``swap_model`` plugin family.

A swap model is registered as a factory ``build(resolution=0, encoder_widths=(), bottleneck=0,
decoder_widths=()) -> nn.Module`` (zeros/empties mean the preset's own choice). The module must
have ``resolution``, ``options`` (a JSON-able dict that rebuilds it through the same factory),
``forward(faces_a, faces_b) -> (faces_a, masks_a, faces_b, masks_b)`` touching the shared encoder
and both decoders, and ``swap(faces, "a2b"|"b2a") -> (faces, masks)``; faces are NCHW RGB floats
in [0, 1], masks N1HW in [0, 1]. Optional: ``init_from_faces(faces_a, faces_b)`` (uint8 NCHW RGB +
mask), called once before a new model trains. ``SwapAutoencoder`` in ``autoencoder.py`` is the
reference.
"""
