"""Segmenters: the ``segmenter`` plugin family, networks that find the visible face in an aligned crop.

A segmenter is registered as a factory with ``@register("segmenter", name)``:
``build(resolution=0, growth=0, first_width=0, down_layers=(), bottleneck_layers=0, dropout=-1.0)
-> nn.Module`` (zero, empty or negative arguments mean the preset's own choice). The module has
``resolution`` (int, the square input size it was built for), ``options`` (a JSON-able dict of the
factory's arguments that rebuilds the same model through the same factory) and
``forward(images) -> logits``: images NCHW RGB floats in [0, 1], logits N1HW at the same size,
whose sigmoid is P(visible face) - face pixels, not hands, hair or objects in front of it. It must
run at any size that is a multiple of ``2 ** len(down_layers)``, so a model may be used at another
size than it was trained at. Bad settings raise ``faceswap.errors.UserError``.
``tiramisu.py`` (FC-DenseNet) is the reference.
"""
