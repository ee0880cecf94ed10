"""The plugin families classify adds to faceswap's registry (entry point group ``faceswap.families``)."""
from faceswap.registry import Family

FAMILIES = (
    Family("classifier_model", "classify.models", "image classifier backbones and models"),
    Family("classifier_head", "classify.heads", "heads that sit on any classifier backbone"),
)
