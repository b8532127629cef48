"""Coverage at k = n: which problems each model solves at least once.

The paper's subset question (Q2): are the problems the RL model solves a subset
of those the base model solves?  Only problems both models attempted are
compared; problems only one model has are listed apart, so a partial run is
visible rather than silently counted as unsolved.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Coverage:
    both: list[str] = field(default_factory=list)
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)
    neither: list[str] = field(default_factory=list)
    missing_a: list[str] = field(default_factory=list)  # attempted by B only
    missing_b: list[str] = field(default_factory=list)  # attempted by A only

    def counts(self) -> dict[str, int]:
        return {
            "both": len(self.both), "only_a": len(self.only_a), "only_b": len(self.only_b),
            "neither": len(self.neither), "missing_a": len(self.missing_a), "missing_b": len(self.missing_b),
        }


def coverage(solved_a: dict[str, bool], solved_b: dict[str, bool]) -> Coverage:
    """Split problems by whether A and B solved them (c > 0 at k = n)."""
    out = Coverage()
    for pid in sorted(set(solved_a) | set(solved_b)):
        if pid not in solved_a:
            out.missing_a.append(pid)
        elif pid not in solved_b:
            out.missing_b.append(pid)
        else:
            a, b = bool(solved_a[pid]), bool(solved_b[pid])
            (out.both if a and b else out.only_a if a else out.only_b if b else out.neither).append(pid)
    return out
