"""Strategy analysis: embed CoTs, cluster strategies, build the step tree, gather base evidence.

Entry point: :func:`pathscope.analysis.pipeline.analyze` (``pathscope analyze``).
Nothing here imports a model backend at import time.
"""
