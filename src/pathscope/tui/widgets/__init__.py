"""Widgets the screens share: the pass@k plot, histograms, the CoT view."""
