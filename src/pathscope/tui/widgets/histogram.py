"""Per-problem accuracy histograms, base and RL bars side by side (the paper's 12 bins)."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

_EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(value: float, width: int) -> str:
    """A horizontal bar of ``value`` (0..1) of ``width`` cells, in eighths."""
    cells = max(0.0, min(1.0, value)) * width
    full = int(cells)
    part = int(round((cells - full) * 8))
    if part == 8:
        full, part = full + 1, 0
    s = "█" * full + (_EIGHTHS[part] if part and full < width else "")
    return s.ljust(width)


class AccuracyHistogram(Widget):
    """``set_counts(labels, base_counts, rl_counts)``."""

    COMPONENT_CLASSES = {"hist--base", "hist--rl", "hist--label"}
    DEFAULT_CSS = """
    AccuracyHistogram { height: 14; }
    AccuracyHistogram > .hist--base { color: $primary; }
    AccuracyHistogram > .hist--rl { color: $warning; }
    AccuracyHistogram > .hist--label { color: $text-muted; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.labels: list[str] = []
        self.base: list[int] = []
        self.rl: list[int] = []

    def set_counts(self, labels: list[str], base: list[int], rl: list[int]) -> None:
        self.labels, self.base, self.rl = labels, base, rl
        self.refresh()

    def render(self) -> Text:
        if not self.labels:
            return Text("")
        lab = self.get_component_rich_style("hist--label", partial=True)
        sb = self.get_component_rich_style("hist--base", partial=True)
        sr = self.get_component_rich_style("hist--rl", partial=True)
        top = max(max(self.base, default=0), max(self.rl, default=0), 1)
        numw = len(f"{top:,}")
        barw = max(3, (self.size.width - 5 - 2 * (numw + 2)) // 2)
        out = Text(no_wrap=True, overflow="crop")
        out.append("acc  " + "base".ljust(barw + numw + 2) + "RL\n", lab)
        for label, b, r in zip(self.labels, self.base, self.rl):
            out.append(f"{label:>3}  ", lab)
            out.append(bar(b / top, barw), sb)
            out.append(f" {b:>{numw},} ", lab)
            out.append(bar(r / top, barw), sr)
            out.append(f" {r:>{numw},}\n", lab)
        return out
