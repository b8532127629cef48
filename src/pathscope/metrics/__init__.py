"""The paper's measurements, as plain functions over numpy arrays.

No UI code and no SQL here: :mod:`pathscope.store.metrics` fetches per-problem
counts from a run, these modules turn them into pass@k curves, coverage sets,
histograms and agreement statistics, and :mod:`pathscope.report` presents them.
"""

from .coverage import Coverage, coverage
from .histogram import BIN_LABELS, accuracy_bins, accuracy_histogram
from .passk import PassAtK, crossover_k, pass_at_k, pass_at_k_table, report_ks

__all__ = [
    "BIN_LABELS",
    "Coverage",
    "PassAtK",
    "accuracy_bins",
    "accuracy_histogram",
    "coverage",
    "crossover_k",
    "pass_at_k",
    "pass_at_k_table",
    "report_ks",
]
