"""pass@k curves drawn in the terminal with braille dots.

Two curves on a log-2 k axis, each with its confidence band shaded behind it
(cell backgrounds), and the crossover k marked by a vertical rule.  Colours
come from component classes styled with theme variables, so themes apply.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

if TYPE_CHECKING:
    import numpy as np

# Braille dot bits, indexed [row 0..3][column 0..1].
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
_YLAB = 5  # width of the y-axis labels ("1.00 ")


class PassKPlot(Widget):
    """``set_curves(ks, series, crossover)``: series = [(label, mean, lo, hi), …] (two)."""

    COMPONENT_CLASSES = {
        "passk--base", "passk--rl", "passk--band-base", "passk--band-rl", "passk--band-both",
        "passk--axis", "passk--cross",
    }
    DEFAULT_CSS = """
    PassKPlot { height: 1fr; min-height: 8; }
    PassKPlot > .passk--base { color: $primary; text-style: bold; }
    PassKPlot > .passk--rl { color: $warning; text-style: bold; }
    PassKPlot > .passk--band-base { background: $primary 20%; }
    PassKPlot > .passk--band-rl { background: $warning 20%; }
    PassKPlot > .passk--band-both { background: $secondary 25%; }
    PassKPlot > .passk--axis { color: $text-muted; }
    PassKPlot > .passk--cross { color: $error; text-style: bold; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ks: "np.ndarray | None" = None
        self.series: "list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]" = []
        self.crossover: int | None = None

    def set_curves(self, ks, series, crossover: int | None) -> None:
        import numpy as np

        self.ks = np.asarray(ks, dtype=np.float64)
        self.series = [(lab, np.asarray(m), np.asarray(lo), np.asarray(hi)) for lab, m, lo, hi in series]
        self.crossover = crossover
        self.refresh()

    def render(self) -> Text:
        w, h = self.size.width, self.size.height
        if self.ks is None or not self.series or w < _YLAB + 8 or h < 4:
            return Text("pass@k: loading…" if self.ks is None else "", style=self.get_component_rich_style("passk--axis", partial=True))
        return self._draw(w, h)

    def _draw(self, w: int, h: int) -> Text:
        import numpy as np

        pw, ph = w - _YLAB - 1, h - 2  # plot cells
        logk = np.log2(self.ks)
        kmax = float(logk[-1]) if logk[-1] > 0 else 1.0
        lo_all = min(float(np.nanmin(s[2])) for s in self.series)
        hi_all = max(float(np.nanmax(s[3])) for s in self.series)
        ymin = math.floor(max(0.0, lo_all) * 10) / 10
        ymax = min(1.0, math.ceil(min(1.0, hi_all) * 10) / 10)
        if ymax - ymin < 0.1:
            ymin = max(0.0, ymax - 0.1)
        span = ymax - ymin

        # Sample each curve at every dot column (2 per cell) on the log-k axis.
        xs = np.linspace(0, kmax, pw * 2)

        def interp(v):
            return np.interp(xs, logk, v)

        def to_dot_y(v):
            frac = (np.clip(v, ymin, ymax) - ymin) / span
            return np.round((1 - frac) * (ph * 4 - 1)).astype(int)

        bits = np.zeros((ph, pw), dtype=np.int32)
        owner = np.zeros((ph, pw), dtype=np.int8)  # 1 base, 2 rl
        band = np.zeros((ph, pw), dtype=np.int8)  # bit 1 base, bit 2 rl
        for si, (_, mean, lo, hi) in enumerate(self.series[:2]):
            y = to_dot_y(interp(mean))
            ylo, yhi = to_dot_y(interp(hi)), to_dot_y(interp(lo))  # screen y grows downward
            for cx in range(pw):
                top = min(ylo[2 * cx], ylo[2 * cx + 1]) // 4
                bot = max(yhi[2 * cx], yhi[2 * cx + 1]) // 4
                band[top : bot + 1, cx] |= 1 << si
            prev = None
            for dx, dy in enumerate(y):
                cx = dx // 2
                lo_y, hi_y = (dy, dy) if prev is None else (min(prev, dy), max(prev, dy))
                if prev is not None and hi_y - lo_y > 1:  # connect steep segments
                    lo_y += 1 if prev < dy else 0
                for yy in range(lo_y, hi_y + 1):
                    bits[yy // 4, cx] |= _DOTS[yy % 4][dx % 2]
                    owner[yy // 4, cx] = si + 1
                prev = dy

        cross_col = None
        if self.crossover is not None and self.crossover > 1:
            cross_col = int(round(math.log2(self.crossover) / kmax * (pw * 2 - 1))) // 2

        # Bands keep their blended background; lines and labels take only their own attributes.
        st = {name: self.get_component_rich_style(f"passk--{name}", partial=not name.startswith("band")) for name in ("base", "rl", "band-base", "band-rl", "band-both", "axis", "cross")}
        plain = Style()
        out = Text(no_wrap=True, overflow="crop")
        for row in range(ph):
            frac = 1 - (row + 0.5) / ph
            yval = ymin + frac * span
            label = f"{yval:4.2f}" if row % max(1, ph // 5) == 0 or row == ph - 1 else ""
            out.append(f"{label:>{_YLAB - 1}} ", st["axis"])
            out.append("│", st["axis"])
            for cx in range(pw):
                b = bits[row, cx]
                bg = band[row, cx]
                bgs = st["band-both"] if bg == 3 else st["band-base"] if bg == 1 else st["band-rl"] if bg == 2 else plain
                if b:
                    fg = st["base"] if owner[row, cx] == 1 else st["rl"]
                    out.append(chr(0x2800 + int(b)), bgs + fg)
                elif cross_col == cx:
                    out.append("┊", bgs + st["cross"])
                else:
                    out.append(" ", bgs)
            out.append("\n")
        # x axis with k labels at powers of two.
        out.append(" " * _YLAB + "└" + "─" * pw + "\n", st["axis"])
        axis = [" "] * (pw + _YLAB + 1)
        p = 0
        while 2**p <= self.ks[-1]:
            col = _YLAB + 1 + int(round(p / kmax * (pw * 2 - 1))) // 2
            lab = str(2**p)
            if col + len(lab) <= len(axis) and all(c == " " for c in axis[max(0, col - 1) : col + len(lab)]):
                axis[col : col + len(lab)] = list(lab)
            p += 1
        line = Text("".join(axis), style=st["axis"])
        if cross_col is not None:
            mark = f"×k={self.crossover}"
            start = min(_YLAB + 1 + cross_col, len(axis) - len(mark))
            line = Text("".join(axis[:start]) + mark + "".join(axis[start + len(mark) :]), style=st["axis"])
            line.stylize(st["cross"], start, start + len(mark))
        out.append_text(line)
        return out

