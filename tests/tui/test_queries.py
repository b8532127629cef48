"""The TUI's SQL against the store's own definitions."""

from __future__ import annotations


from pathscope import open_run
from pathscope.store import tui_queries
from pathscope.store.metrics import problem_counts

from .runs import build_run


def test_fast_counts_equal_the_verdict_view_with_several_verifiers(tmp_path):
    path = build_run(tmp_path / "run.duckdb")
    with open_run(path) as run:
        # p00 of the base model gets 'imported' verdicts that disagree (ignored: a real verifier wins),
        # p01 gets a second real verifier whose newer rows win.
        run.con.execute(
            """INSERT INTO verdicts (model_id, problem_id, sample_idx, verifier, extracted, correct, created_at)
               SELECT model_id, problem_id, sample_idx, 'imported', extracted, NOT correct, created_at - INTERVAL 1 DAY
               FROM verdicts WHERE model_id = 1 AND problem_id = 'p00'"""
        )
        run.con.execute(
            """INSERT INTO verdicts (model_id, problem_id, sample_idx, verifier, extracted, correct, created_at)
               SELECT model_id, problem_id, sample_idx, 'zz-regrade', extracted, true, created_at + INTERVAL 1 DAY
               FROM verdicts WHERE model_id = 2 AND problem_id = 'p01' AND sample_idx < 3"""
        )
        fast = tui_queries.problem_counts_fast(run.con, [1, 2]).to_pylist()
        # The definition: aggregate the ranked `verdict` view.
        ref = run.con.sql(
            """SELECT model_id, problem_id, count(*)::BIGINT AS n, (count(*) FILTER (WHERE correct))::BIGINT AS c
               FROM verdict WHERE model_id IN (1, 2) GROUP BY ALL ORDER BY model_id, problem_id"""
        ).to_arrow_table().to_pylist()
        assert fast == ref
        assert problem_counts(run, [1, 2]).select(["model_id", "problem_id", "n", "c"]).to_pylist() == ref
        rows = tui_queries.problem_count_rows(run.con, [1, 2])
        assert [dict(zip(("model_id", "problem_id", "n", "c"), r)) for r in rows] == ref
        by_key = {(r["model_id"], r["problem_id"]): (r["n"], r["c"]) for r in fast}
        assert by_key[(1, "p00")] == (8, 5) and by_key[(2, "p01")] == (8, 3)


def test_stats_filters_sorts_and_search(tmp_path):
    path = build_run(tmp_path / "run.duckdb")
    with open_run(path) as run:
        con = run.con
        stats = tui_queries.problem_stats(con, 1, 2)
        assert stats.num_rows == 6
        row = stats.slice(0, 1).to_pylist()[0]
        assert (row["bn"], row["bc"], row["rn"], row["rc"], row["strategies"]) == (8, 5, 8, 7, 2)

        def ids(**kw):
            return tui_queries.problem_table(con, stats, **kw).column("problem_id").to_pylist()

        assert ids(filter="rl_only") == ["p02"]
        assert ids(filter="base_only") == ["p01"]
        assert ids(filter="base_large_k") == []  # p01: base 2/8 > 10%
        assert ids(filter="neither") == ["p03"]
        assert ids(sort="rl_acc", descending=True)[0] == "p04"
        assert ids(sort="delta", descending=True)[:2] == ["p04", "p02"]  # +7/8, +3/8
        hits = tui_queries.search_hits(con, [1, 2], "problem 4:")
        assert hits.column("problem_id").to_pylist() == ["p04"]  # only the prompt says "Problem 4:"
        # smart case: a capital letter makes the match case-sensitive
        assert tui_queries.search_hits(con, [1, 2], "PROBLEM 4:").num_rows == 0
        assert tui_queries.search_hits(con, [1, 2], "Problem 4:").num_rows == 1
        # wildcards are literal
        assert tui_queries.search_hits(con, [1, 2], "%").num_rows == 0
        both = tui_queries.search_hits(con, [1, 2], "not markup")
        assert both.to_pylist()[0]["hits"] == 1 and "not markup" in both.to_pylist()[0]["snippet"]
        assert ids(hits=both) == ["p05"]


def test_review_progress_counts_current_marks_per_problem(tmp_path):
    from pathscope.store import annotations

    path = build_run(tmp_path / "run.duckdb")
    with open_run(path) as run:
        annotations.append(run, "sample", annotations.sample_target_id("rl-model", "p00", 7), "novel", "ada")
        annotations.append(run, "sample", annotations.sample_target_id("rl-model", "p00", 6), "unsure", "ada")
        annotations.append(run, "sample", annotations.sample_target_id("rl-model", "p00", 6), "cleared", "ada")
        annotations.append(run, "cluster", annotations.cluster_target_id("p04", 1), "already_in_base", "bo")
        stats = tui_queries.problem_stats(run.con, 1, 2)
        reviewed = dict(zip(stats.column("problem_id").to_pylist(), stats.column("reviewed").to_pylist()))
        assert reviewed == {"p00": 1, "p01": 0, "p02": 0, "p03": 0, "p04": 1, "p05": 0}


def test_sample_lists_pick_the_effective_verdict_and_scorer(tmp_path):
    path = build_run(tmp_path / "run.duckdb")
    with open_run(path) as run:
        run.con.execute(
            """INSERT INTO verdicts (model_id, problem_id, sample_idx, verifier, extracted, correct, created_at)
               VALUES (2, 'p00', 0, 'imported', 'x', true, now() + INTERVAL 1 DAY),
                      (2, 'p00', 1, 'zz-regrade', 'y', false, now() + INTERVAL 1 DAY)"""
        )
        run.con.execute("INSERT INTO scores (model_id, problem_id, sample_idx, scorer_model_id, ppl) VALUES (2, 'p00', 7, 2, 9.5)")
        lists = tui_queries.sample_lists(run.con, [1, 2], "p00", 1)
        view = {
            (r[0], r[1]): (r[2], r[3])
            for r in run.con.execute(
                "SELECT model_id, sample_idx, correct, extracted FROM verdict WHERE problem_id = 'p00'"
            ).fetchall()
        }
        for m in (1, 2):
            assert [r["sample_idx"] for r in lists[m]] == list(range(8))
            for r in lists[m]:
                assert (r["correct"], r["extracted"]) == view[(m, r["sample_idx"])]
        assert lists[2][0]["correct"] is False  # 'imported' loses to the real verifier
        assert lists[2][1]["extracted"] == "y"  # the newer real verifier wins
        assert lists[2][7]["ppl"] == 1.25  # scored under the base model (id 1), preferred over id 2
