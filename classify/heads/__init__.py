"""The ``classifier_head`` plugin family: maps a backbone's features to class scores.

A registered head is a callable called with keyword arguments ``in_features`` and
``num_classes`` plus whichever of the run's head options its signature accepts
(``hidden``, ``activation``, ``dropout``). It returns an ``nn.Module`` mapping features
(N, in_features) to logits (N, num_classes). Any head sits on any backbone.

Built-ins register with ``@register("classifier_head", NAME)`` in a module of this package;
other packages use the entry point group ``faceswap.classifier_head``.
"""
