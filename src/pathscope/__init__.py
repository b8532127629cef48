"""pathscope: does RL add reasoning paths, or re-weight the base model's?

The Python API for notebooks and scripts starts at :func:`open_run`::

    import pathscope
    with pathscope.open_run("run.duckdb", read_only=True) as run:
        run.df("SELECT * FROM verdict")
"""

__version__ = "0.1.0"


def open_run(path, read_only: bool = False, **kwargs):
    """Open (or create) a run file; see :func:`pathscope.store.open_run`."""
    from .store import open_run as _open_run

    return _open_run(path, read_only=read_only, **kwargs)


__all__ = ["open_run", "__version__"]
