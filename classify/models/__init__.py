"""The ``classifier_model`` plugin family: image backbones that any head can sit on.

A registered model is a callable (usually an ``nn.Module`` class) called with keyword
arguments ``in_channels`` and ``img_size`` plus whichever of the run's model options its
signature accepts (``hidden_sizes``, ``activation``). It returns an ``nn.Module`` that maps
normalised images (N, C, H, W) to features (N, F) and has an int attribute
``feature_size`` (F). Optional class attributes: ``min_img_size`` (smallest input side it
accepts), ``pretrained_weights`` (names such as "imagenet") with a method
``load_pretrained(name)``.

Built-ins register with ``@register("classifier_model", NAME)`` in a module of this
package; other packages use the entry point group ``faceswap.classifier_model``.
"""
