"""Sampling chains of thought into a run, and scoring them.

The Python API (no heavy import happens until a backend is used)::

    from pathscope.sampling import load_config, sample_run, score_run, prepare_smollm2
"""

from __future__ import annotations

from .config import ModelSpec, PromptSpec, ProblemSelection, SampleConfig, SamplingParams, apply_overrides, load_config, parse_config
from .runner import sample_run


def score_run(*args, **kwargs):
    """See :func:`pathscope.sampling.scoring.score_run`."""
    from .scoring import score_run as _score_run

    return _score_run(*args, **kwargs)


def prepare_smollm2(*args, **kwargs):
    """See :func:`pathscope.sampling.prepare.prepare_smollm2`."""
    from .prepare import prepare_smollm2 as _prepare

    return _prepare(*args, **kwargs)


__all__ = [
    "ModelSpec", "PromptSpec", "ProblemSelection", "SampleConfig", "SamplingParams", "apply_overrides",
    "load_config", "parse_config", "sample_run", "score_run", "prepare_smollm2",
]
