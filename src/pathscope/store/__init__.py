"""The run store: the one owner of the run file's schema and SQL."""

from .run import ModelInfo, Run, library_versions, open_run
from .schema import SCHEMA_VERSION

__all__ = ["ModelInfo", "Run", "open_run", "library_versions", "SCHEMA_VERSION"]
