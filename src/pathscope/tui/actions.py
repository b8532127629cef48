"""The one table of TUI actions.

Every key the app answers to is a row here: an id, default key(s), a
description and the scope (``app`` or a screen's mode name) it belongs to.
Footer bindings, the help screen, the command palette and the user's keymap
(``[tui.keys]`` in the config file, keyed by id) are all derived from this
table, so an action is defined once.  A screen gets its bindings with
``BINDINGS = bindings_for("problems")``.

Adding an action: append an :class:`Action` (or call :func:`register`) and
implement ``action_<name>`` on the screen (or app) of that scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Action:
    #: Stable id, used as the Binding id and as the key in ``[tui.keys]``.
    id: str
    #: Default key(s), comma separated, in Textual's key names (``question_mark,f1``).
    keys: str
    #: The Textual action string run on the scope's screen (or the app).
    action: str
    description: str
    #: ``app`` (everywhere) or a mode name: ``overview``, ``problems``, ``detail``, ...
    scope: str = "app"
    #: Shown in the footer (everything is always in help and the palette).
    show: bool = True
    #: Listed in the command palette.
    palette: bool = True
    #: Short footer label; defaults to the description.
    label: str | None = None

    @property
    def footer_label(self) -> str:
        return self.label or self.description


REGISTRY: list[Action] = [
    # -- everywhere -------------------------------------------------------------
    Action("app.help", "question_mark,f1", "app.show_help", "Help: every key and action", label="help"),
    Action("app.palette", "ctrl+p", "app.command_palette", "Command palette (jump to a problem)", label="palette", palette=False, show=False),
    Action("app.overview", "o", "app.goto('overview')", "Overview: pass@k, coverage, histograms", label="overview"),
    Action("app.problems", "p", "app.goto('problems')", "Problems: the table of all problems", label="problems"),
    Action("app.detail", "d", "app.goto('detail')", "Problem detail: base vs RL side by side", label="detail"),
    Action("app.tree", "t", "app.goto('tree')", "Step tree of the current problem", label="tree"),
    Action("app.clusters", "s", "app.goto('clusters')", "Strategy clusters of the current problem", label="clusters"),
    Action("app.review", "r", "app.goto('review')", "Review: mark RL solutions already in base / novel", label="review"),
    Action("app.quit", "q", "app.quit", "Quit", label="quit"),
    # -- overview ---------------------------------------------------------------
    Action("overview.both", "1", "coverage('both')", "Problems both models solve (at k = n)", "overview", label="both"),
    Action("overview.base_only", "2", "coverage('base_only')", "Problems only the base model solves", "overview", label="base-only"),
    Action("overview.rl_only", "3", "coverage('rl_only')", "Problems only the RL model solves", "overview", label="RL-only"),
    Action("overview.neither", "4", "coverage('neither')", "Problems neither model solves", "overview", label="neither"),
    # -- problems ---------------------------------------------------------------
    Action("problems.open", "enter", "open_selected", "Open the selected problem", "problems", label="open"),
    Action("problems.search", "slash", "focus_search", "Search problems and CoTs (text)", "problems", label="search"),
    Action("problems.filter", "f", "cycle_filter", "Next filter (RL-only, base-only, …)", "problems", label="filter"),
    Action("problems.sort", "S", "cycle_sort", "Next sort column", "problems", label="sort"),
    Action("problems.reverse", "R", "reverse_sort", "Reverse the sort order", "problems", label="reverse"),
    Action("problems.clear", "escape", "clear", "Clear search and filter", "problems", label="clear", show=False),
    # -- detail -----------------------------------------------------------------
    Action("detail.side", "tab", "switch_side", "Switch the active side (base / RL)", "detail", label="side"),
    Action("detail.next", "j", "step(1)", "Next sample on the active side", "detail", label="next"),
    Action("detail.prev", "k", "step(-1)", "Previous sample on the active side", "detail", label="prev"),
    Action("detail.next_correct", "c", "jump(True)", "Next correct sample on the active side", "detail", label="correct"),
    Action("detail.next_incorrect", "x", "jump(False)", "Next incorrect sample on the active side", "detail", label="incorrect"),
    Action("detail.evidence", "e", "show_evidence", "Show the nearest base CoT of this RL CoT", "detail", label="nearest base"),
    Action("detail.next_problem", "right_square_bracket", "problem(1)", "Next problem in the list", "detail", label="next prob"),
    Action("detail.prev_problem", "left_square_bracket", "problem(-1)", "Previous problem in the list", "detail", label="prev prob"),
    Action("detail.back", "escape", "app.goto('problems')", "Back to the problem list", "detail", label="back", show=False),
    # -- step tree --------------------------------------------------------------
    Action("tree.diverge", "v", "diverge", "Jump to where base and RL diverge (deepest shared node)", "tree", label="diverge"),
    Action("tree.back", "escape", "app.goto('detail')", "Back to the problem detail", "tree", label="back", show=False),
    # -- strategy clusters ------------------------------------------------------
    Action("clusters.rl_only", "b", "toggle_rl_only", "Only clusters with correct RL members and no base member", "clusters", label="RL-only"),
    Action("clusters.export", "e", "export('problem')", "Export this problem's annotated clusters", "clusters", label="export"),
    Action("clusters.export_run", "E", "export('run')", "Export the whole run's annotated clusters", "clusters", label="export run", show=False),
    Action("clusters.back", "escape", "app.goto('detail')", "Back to the problem detail", "clusters", label="back", show=False),
    # -- review -----------------------------------------------------------------
    Action("review.base", "y", "mark('already_in_base')", "Mark: already in base", "review", label="in base"),
    Action("review.novel", "n", "mark('novel')", "Mark: novel (not in base)", "review", label="novel"),
    Action("review.unsure", "u", "mark('unsure')", "Mark: unsure", "review", label="unsure"),
    Action("review.note", "c", "note", "Add a note to this item", "review", label="note"),
    Action("review.undo", "z", "undo", "Undo the last mark or note", "review", label="undo"),
    Action("review.next", "space,j", "move(1)", "Next item", "review", label="next"),
    Action("review.prev", "k", "move(-1)", "Previous item", "review", label="prev"),
    Action("review.resume", "g", "resume", "Go to the first item not yet reviewed", "review", label="resume", show=False),
    Action("review.kind", "m", "toggle_kind", "Queue of samples or of clusters", "review", label="samples/clusters"),
    Action("review.scope", "a", "toggle_scope", "Whole run or this problem only", "review", label="run/problem"),
    Action("review.export", "e", "export('problem')", "Export this problem's annotated clusters", "review", label="export", show=False),
    Action("review.export_run", "E", "export('run')", "Export the whole run's annotated clusters", "review", label="export run", show=False),
    Action("review.back", "escape", "app.goto('detail')", "Back to the problem detail", "review", label="back", show=False),
]


def register(*actions: Action) -> None:
    """Add actions (e.g. from a new screen's module); ids must be unique."""
    known = {a.id for a in REGISTRY}
    for a in actions:
        if a.id in known:
            raise ValueError(f"action id {a.id!r} is registered twice")
        REGISTRY.append(a)
        known.add(a.id)


def actions_for(scope: str) -> list[Action]:
    return [a for a in REGISTRY if a.scope == scope]


def by_id(action_id: str) -> Action:
    for a in REGISTRY:
        if a.id == action_id:
            return a
    raise KeyError(action_id)


def bindings_for(scope: str) -> list[Binding]:
    """Textual bindings for one scope, each carrying its registry id (for keymaps)."""
    return [
        Binding(a.keys, a.action, a.footer_label, show=a.show, id=a.id, tooltip=a.description)
        for a in actions_for(scope)
    ]


def effective_keys(action: Action, keymap: dict[str, str]) -> str:
    """The keys an action answers to once the user's keymap is applied."""
    return keymap.get(action.id, action.keys)


def validate_keymap(keymap: dict, source: str) -> dict[str, str]:
    """Check a ``[tui.keys]`` table: known ids, string values.  Raises InputError."""
    from ..errors import InputError

    ids = {a.id for a in REGISTRY}
    out: dict[str, str] = {}
    for key, value in keymap.items():
        if key not in ids:
            raise InputError(f"{source}: [tui.keys] {key!r} is not an action id (see the help screen, `?`).")
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{source}: [tui.keys] {key!r} must be a key name string such as \"ctrl+n\".")
        out[key] = value.replace(" ", "")
    return out
