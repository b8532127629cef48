"""A read-only, line-based view of one chain of thought.

Model output is untrusted: the text passes through ``safe_text.clean`` (escape
sequences removed, NUL and other controls made visible) and is drawn as plain
segments, never parsed as markup.  Lines are soft-wrapped to the width and
only the visible ones are rendered, so a 100 KB CoT shows at once.  The
extracted final answer and the search term are highlighted.
"""

from __future__ import annotations

import re

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...safe_text import clean

#: Longer lines are cut (the rest is summarised) so a pathological line stays cheap.
MAX_LINE = 20_000
#: Texts longer than this are cut with a note; the full text stays in the run.
MAX_TEXT = 2_000_000


class CotView(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"cot-view--answer", "cot-view--match", "cot-view--note"}
    DEFAULT_CSS = """
    CotView { height: 1fr; background: $surface; }
    CotView > .cot-view--answer { background: $success 35%; text-style: bold; }
    CotView > .cot-view--match { background: $warning 45%; text-style: bold underline; }
    CotView > .cot-view--note { color: $text-muted; text-style: italic; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.text = ""
        self._pieces: list[tuple[int, int]] = []  # (start, end) offsets into self.text
        self._marks: list[tuple[int, int, str]] = []  # (start, end, component class)
        self._wrapped_for = -1

    # -- content ---------------------------------------------------------------------

    def set_text(self, text: str | None, answer: str | None = None, term: str | None = None) -> None:
        """Show ``text``; highlight the last occurrence of ``answer`` and every ``term``."""
        t = clean(text).expandtabs(4)
        if len(t) > MAX_TEXT:
            t = t[:MAX_TEXT] + f"\n… (cut here: {len(t) - MAX_TEXT:,} more characters in the run)"
        lines = t.split("\n")
        if any(len(line) > MAX_LINE for line in lines):
            lines = [ln if len(ln) <= MAX_LINE else ln[:MAX_LINE] + f" … (+{len(ln) - MAX_LINE:,} chars)" for ln in lines]
            t = "\n".join(lines)
        self.text = t
        marks: list[tuple[int, int, str]] = []
        if term:
            for m in re.finditer(re.escape(term), t, flags=re.IGNORECASE):
                marks.append((m.start(), m.end(), "cot-view--match"))
        ans = clean(answer).strip() if answer else ""
        if ans:
            pos = t.rfind(ans)
            if pos >= 0:
                marks.append((pos, pos + len(ans), "cot-view--answer"))
        self._marks = sorted(marks)
        self._wrapped_for = -1
        self._rewrap()
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def _rewrap(self) -> None:
        width = max(10, self.scrollable_content_region.width or self.size.width or 80)
        if width == self._wrapped_for:
            return
        pieces: list[tuple[int, int]] = []
        pos = 0
        for line in self.text.split("\n"):
            if not line:
                pieces.append((pos, pos))
            elif line.isascii():
                for i in range(0, len(line), width):
                    pieces.append((pos + i, pos + min(len(line), i + width)))
            else:
                start = pos
                for chunk in chop_cells(line, width):
                    pieces.append((start, start + len(chunk)))
                    start += len(chunk)
            pos += len(line) + 1
        self._pieces = pieces
        self._wrapped_for = width
        self.virtual_size = Size(width, len(pieces))

    def on_resize(self) -> None:
        self._rewrap()
        self.refresh()

    @property
    def line_count(self) -> int:
        return len(self._pieces)

    # -- drawing ----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = y + int(self.scroll_offset.y)
        base = self.rich_style
        if index >= len(self._pieces):
            return Strip.blank(width, base)
        start, end = self._pieces[index]
        segments: list[Segment] = []
        pos = start
        for ms, me, cls in self._marks:
            if me <= pos or ms >= end:
                continue
            if ms > pos:
                segments.append(Segment(self.text[pos:ms], base))
            style: Style = base + self.get_component_rich_style(cls, partial=True)
            segments.append(Segment(self.text[max(ms, pos) : min(me, end)], style))
            pos = min(me, end)
        if pos < end:
            segments.append(Segment(self.text[pos:end], base))
        strip = Strip(segments, sum(cell_len(s.text) for s in segments))
        return strip.extend_cell_length(width, base).crop(0, width)
