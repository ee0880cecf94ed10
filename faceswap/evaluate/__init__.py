"""Evaluate: how good a swapped video is, in numbers and in words (`faceswap evaluate`).

    from faceswap.evaluate import evaluate
    report = evaluate("swapped.mp4", reference="original.mp4", person_b="faces_b")
    print(report.describe())

``report.py`` measures blending artefacts (seams, the band outside the face, pixels away from
faces) and runs the quality sampler: identity (``person.py`` gives person B's faces), expression,
pose and sharpness (``quality_sampler.py`` samples, ``quality_metrics.py`` measures,
``quality.py`` holds the thresholds and verdicts). It sits above convert: it reads videos and
faces, never a model.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faceswap.evaluate.report import EvaluateReport, evaluate, write_report

__all__ = ["EvaluateReport", "evaluate", "write_report"]


def __getattr__(name: str) -> Any:
    if name in __all__:  # the report pulls in the detectors and video code: load it when asked for
        from faceswap.evaluate import report

        return getattr(report, name)
    raise AttributeError(name)
