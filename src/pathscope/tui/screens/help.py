"""The help screen (`?`, F1): every action of the registry, grouped by scope,
with the keys it answers to after the user's keymap."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from ..actions import REGISTRY

_SCOPE_TITLES = {"app": "Everywhere"}


def key_label(keys: str) -> str:
    """Textual key names as a person types them: ``question_mark,f1`` -> ``? / F1``."""
    names = {
        "question_mark": "?", "slash": "/", "left_square_bracket": "[", "right_square_bracket": "]",
        "escape": "Esc", "enter": "Enter", "tab": "Tab", "space": "Space",
    }
    out = []
    for k in keys.split(","):
        k = k.strip()
        out.append(names.get(k, k.upper() if len(k) <= 3 and k.startswith("f") and k[1:].isdigit() else k))
    return " / ".join(out)


class HelpScreen(ModalScreen):
    """Modal: the keys of the current screen first, then every other scope."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss_help", "Close help", id="help.close"),
    ]

    def __init__(self, scope: str, keymap: dict[str, str]) -> None:
        super().__init__()
        self.scope = scope
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        scopes: list[str] = []
        for a in REGISTRY:
            if a.scope not in scopes:
                scopes.append(a.scope)
        order = [self.scope] + [s for s in scopes if s != self.scope]
        parts: list[Content] = []
        for scope in order:
            rows = [a for a in REGISTRY if a.scope == scope]
            if not rows:
                continue
            title = _SCOPE_TITLES.get(scope, scope.capitalize() + " screen")
            if scope == self.scope and scope != "app":
                title += " (this screen)"
            parts.append(Content.styled(title, "bold $accent"))
            for a in rows:
                keys = key_label(self.keymap.get(a.id, a.keys))
                parts.append(
                    Content.assemble(
                        (f"  {keys:<14}", "bold $text"),
                        (f"{a.description}", "$foreground"),
                        (f"   {a.id}", "$text-muted"),
                    )
                )
            parts.append(Content(""))
        parts.append(Content.styled("Remap keys in pathscope.toml under [tui.keys], by action id.", "$text-muted"))
        with VerticalScroll(id="help-body"):
            yield Static(Content("\n").join(parts), id="help-text")

    def action_dismiss_help(self) -> None:
        self.dismiss()
