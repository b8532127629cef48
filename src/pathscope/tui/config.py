"""The TUI's part of the config file: ``[tui]`` and ``[tui.keys]``.

Looked up in order: ``--config FILE``, ``./pathscope.toml``, then
``$XDG_CONFIG_HOME/pathscope/config.toml`` (``~/.config/...``).  Example::

    [tui]
    reviewer = "ada"
    theme = "textual-light"

    [tui.keys]
    "detail.next" = "down,j"
    "app.quit" = "ctrl+q"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError


@dataclass
class TuiConfig:
    reviewer: str | None = None
    theme: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    source: Path | None = None


def default_config_paths() -> list[Path]:
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return [Path("pathscope.toml"), Path(xdg) / "pathscope" / "config.toml"]


def load_config(path: str | os.PathLike | None = None) -> TuiConfig:
    """Read the TUI config; an explicit path must exist, defaults are optional."""
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"{p}: no such config file.")
        candidates = [p]
    else:
        candidates = [p for p in default_config_paths() if p.is_file()]
    if not candidates:
        return TuiConfig()
    p = candidates[0]
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{p}: not valid TOML ({exc}).") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read the config file ({exc}).") from None
    tui = data.get("tui", {})
    if not isinstance(tui, dict):
        raise InputError(f"{p}: [tui] must be a table.")
    keys = tui.get("keys", {})
    if not isinstance(keys, dict):
        raise InputError(f"{p}: [tui.keys] must be a table of action id = \"keys\".")
    reviewer = tui.get("reviewer")
    if reviewer is not None and not isinstance(reviewer, str):
        raise InputError(f"{p}: [tui] reviewer must be a string.")
    theme = tui.get("theme")
    if theme is not None and not isinstance(theme, str):
        raise InputError(f"{p}: [tui] theme must be a string.")
    from .actions import validate_keymap

    return TuiConfig(reviewer=reviewer, theme=theme, keys=validate_keymap(keys, str(p)), source=p)
