"""A small, fully known run for the tree, clusters and review tests.

Two models (``base``, ``rl``), three problems, eight samples each per model,
verdicts, strategy clusters, a step tree and evidence rows, inserted directly
as the analysis stage would store them.  Problem ``p1`` has a wide node (more
children than one slice) and one RL sample whose text carries markup and
escape sequences.
"""

from __future__ import annotations

import json

import pyarrow as pa

PROBLEMS = ["p1", "p2", "p3"]
N = 8
# rl sample i is correct unless listed; base sample i is correct if listed.
RL_WRONG = {0, 7}
BASE_RIGHT = {0, 1, 2}
WIDE = 120  # children under node 2 of p1
HOSTILE = "[bold red]not markup[/] \x1b]0;pwned\x07 \x1b[31mred\x1b[0m NUL\x00 end"


def rl_text(problem_id: str, i: int) -> str:
    if problem_id == "p1" and i == 3:
        return f"RL {problem_id} sample {i}. {HOSTILE}\nSo the answer is \\boxed{{4}}."
    return f"RL {problem_id} sample {i}: set up the equation x+1=5.\nSolve: x = 4.\nSo the answer is \\boxed{{4}}."


def base_text(problem_id: str, i: int) -> str:
    return f"Base {problem_id} sample {i}: enumerate x = 1, 2, 3, 4.\nOnly 4 works.\nThe answer is \\boxed{{{4 if i in BASE_RIGHT else 5}}}."


def rl_cluster(i: int) -> int:
    """rl samples 1-3 share cluster 0 with correct base; 4-7 form cluster 1 (RL only); 0 is in 0."""
    return 0 if i <= 3 else 1


def base_cluster(i: int) -> int:
    return 0 if i in BASE_RIGHT else 2


def build(run) -> dict:
    """Fill an open, writable run (in one transaction); returns the model ids."""
    with run.transaction():
        return _build(run)


def _build(run) -> dict:
    base = run.ensure_model("base", role="base")
    rl = run.ensure_model("rl", role="rl")
    run.add_problems(pa.table({
        "problem_id": PROBLEMS,
        "prompt": [f"Problem {p}: find x with x + 1 = 5." for p in PROBLEMS],
        "answer": ["4"] * len(PROBLEMS),
        "kind": ["math"] * len(PROBLEMS),
        "source": ["fixture"] * len(PROBLEMS),
    }))
    rows = {"model_id": [], "problem_id": [], "sample_idx": [], "text": []}
    for p in PROBLEMS:
        for i in range(N):
            for mid, fn in ((base, base_text), (rl, rl_text)):
                rows["model_id"].append(mid)
                rows["problem_id"].append(p)
                rows["sample_idx"].append(i)
                rows["text"].append(fn(p, i))
    run.add_samples(pa.table(rows))
    con = run.con
    for p in PROBLEMS:
        for i in range(N):
            con.execute("INSERT INTO verdicts (model_id, problem_id, sample_idx, verifier, extracted, correct) VALUES (?, ?, ?, 'math', ?, ?)",
                        [base, p, i, "4" if i in BASE_RIGHT else "5", i in BASE_RIGHT])
            con.execute("INSERT INTO verdicts (model_id, problem_id, sample_idx, verifier, extracted, correct) VALUES (?, ?, ?, 'math', ?, ?)",
                        [rl, p, i, "3" if i in RL_WRONG else "4", i not in RL_WRONG])
            con.execute("INSERT INTO cluster_members VALUES (?, ?, ?, ?)", [base, p, i, base_cluster(i)])
            con.execute("INSERT INTO cluster_members VALUES (?, ?, ?, ?)", [rl, p, i, rl_cluster(i)])
        con.execute("INSERT INTO clusters VALUES (?, 0, 'equation substitution', 7, ?, 1, NULL)", [p, rl])
        con.execute("INSERT INTO clusters VALUES (?, 1, 'symmetry shortcut', 4, ?, 5, NULL)", [p, rl])
        con.execute("INSERT INTO clusters VALUES (?, 2, 'enumerate cases', 5, ?, 3, NULL)", [p, base])
        for i in range(N):
            if i in RL_WRONG:
                continue
            in_base = rl_cluster(i) == 0
            con.execute(
                "INSERT INTO evidence VALUES (?, ?, ?, ?, ?, ?, true, ?, ?, true, ?, ?)",
                [rl, p, i, base, i % 3, 0.9 if in_base else 0.55, in_base, 1.5 + i / 10,
                 "already_in_base" if in_base else "possibly_novel", 0.8 if in_base else 0.6],
            )
    _tree(run, base, rl)
    return {"base": base, "rl": rl}


def _tree(run, base: int, rl: int) -> None:
    """p1: 0 root -> 1 'set up equation' (base 0-2 + rl) -> 3 'solve' (base 0-2, rl 0-3) | 4 'symmetry' (rl 4-7 only)
                  -> 2 'enumerate' (base 3-7) -> WIDE children 10.. (base 3-7 spread over the first five)."""
    con = run.con
    p = "p1"

    def node(nid, parent, depth, label, text, n_children, is_other=False):
        con.execute("INSERT INTO tree_nodes VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                    [p, nid, parent, depth, label, text, is_other, n_children])

    node(0, None, 0, "start", "Let x be the unknown.", 2)
    node(1, 0, 1, "equation", "Set up the equation x + 1 = 5.", 2)
    node(2, 0, 1, "enumerate", "Try x = 1, 2, 3, 4 in turn.", WIDE)
    node(3, 1, 2, "solve", "Subtract 1: x = 4.", 0)
    node(4, 1, 2, "symmetry", "By symmetry [b]x[/b] = 4.", 0)
    for k in range(WIDE):
        node(10 + k, 2, 2, f"case {k}", f"Case {k}: check x = {k}.", 0, is_other=(k == WIDE - 1))

    def path(mid, i, ids):
        con.execute("INSERT INTO tree_paths VALUES (?, ?, ?, ?, ?)", [mid, p, i, ids[-1], ids])

    for i in range(N):
        if i in BASE_RIGHT:
            path(base, i, [0, 1, 3])
        else:
            path(base, i, [0, 2, 10 + (i - 3)])
        path(rl, i, [0, 1, 3] if i <= 3 else [0, 1, 4])
    # counts JSON as the analysis stage may store it (the views recompute from paths).
    con.execute("UPDATE tree_nodes SET counts = ? WHERE problem_id = 'p1'", [json.dumps({})])


_TEMPLATE = {}


def make_run(dest, tmp_path_factory):
    """Copy of a run built once per test session (building costs ~1 s of
    commits; copying a closed file costs nothing)."""
    import shutil

    from pathscope import open_run

    if "path" not in _TEMPLATE:
        path = tmp_path_factory.mktemp("review-template") / "run.duckdb"
        with open_run(path) as run:
            build(run)
            run.con.execute("CHECKPOINT")
        _TEMPLATE["path"] = path
    shutil.copy2(_TEMPLATE["path"], dest)
    return dest
