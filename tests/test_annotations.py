"""Review marks: append-only history, undo, notes, reviewers kept apart, the queue."""

from __future__ import annotations

import pytest

import review_data
from pathscope import open_run
from pathscope.errors import PathscopeError, RunError
from pathscope.review import ReviewQueue, resolve_reviewer
from pathscope.store import annotations as ann


@pytest.fixture
def run(run_path, tmp_path_factory):
    review_data.make_run(run_path, tmp_path_factory)
    r = open_run(run_path)
    yield r
    r.close()


def _count(run):
    return run.count("annotations")


def test_mark_appends_and_never_updates(run):
    tid = ann.sample_target_id("rl", "p1", 1)
    ann.mark(run, "sample", tid, "novel", "alice")
    ann.mark(run, "sample", tid, "already_in_base", "alice")
    hist = ann.history(run, "sample", tid)
    assert [m.label for m in hist] == ["novel", "already_in_base"]
    assert hist[0].annotation_id < hist[1].annotation_id
    assert ann.current(run, "sample", tid, "alice").label == "already_in_base"


def test_undo_restores_previous_then_cleared(run):
    tid = ann.sample_target_id("rl", "p1", 1)
    first = ann.mark(run, "sample", tid, "novel", "alice")
    second = ann.mark(run, "sample", tid, "unsure", "alice")
    restored = ann.undo(run, second)
    assert restored.label == "novel"
    again = ann.undo(run, first)
    assert again.label == "cleared"
    assert [m.label for m in ann.history(run, "sample", tid)] == ["novel", "unsure", "novel", "cleared"]


def test_note_keeps_label_and_mark_keeps_note(run):
    tid = ann.cluster_target_id("p1", 1)
    ann.mark(run, "cluster", tid, "novel", "bob")
    n = ann.add_note(run, "cluster", tid, "uses symmetry; base never does", "bob")
    assert (n.label, n.note) == ("novel", "uses symmetry; base never does")
    m = ann.mark(run, "cluster", tid, "unsure", "bob")
    assert m.note == "uses symmetry; base never does"
    # a note before any label is stored as 'cleared' + note (not reviewed)
    n2 = ann.add_note(run, "cluster", ann.cluster_target_id("p2", 0), "look again", "bob")
    assert n2.label == "cleared"


def test_reviewers_kept_apart_and_paired(run):
    for i, (a, b) in enumerate([("novel", "novel"), ("novel", "already_in_base"), ("unsure", "unsure")]):
        tid = ann.sample_target_id("rl", "p1", i + 1)
        ann.mark(run, "sample", tid, a, "alice")
        ann.mark(run, "sample", tid, b, "bob")
    ann.mark(run, "sample", ann.sample_target_id("rl", "p1", 5), "novel", "alice")
    assert ann.current(run, "sample", ann.sample_target_id("rl", "p1", 2), "alice").label == "novel"
    assert ann.current(run, "sample", ann.sample_target_id("rl", "p1", 2), "bob").label == "already_in_base"
    pairs = ann.paired_labels(run, "sample", "alice", "bob")
    assert [(a, b) for _, a, b in pairs] == [("novel", "novel"), ("novel", "already_in_base"), ("unsure", "unsure")]
    assert ann.reviewers(run) == ["alice", "bob"]
    cur = ann.current_marks(run, "sample")
    assert len(cur) == 7


def test_bad_label_kind_reviewer(run):
    with pytest.raises(PathscopeError, match="label"):
        ann.mark(run, "sample", "rl/p1/1", "maybe", "alice")
    with pytest.raises(PathscopeError, match="kind"):
        ann.mark(run, "problem", "p1", "novel", "alice")
    with pytest.raises(PathscopeError, match="reviewer"):
        ann.mark(run, "sample", "rl/p1/1", "novel", " ")
    assert _count(run) == 0


def test_parse_target_ids():
    assert ann.parse_sample_target_id("Qwen/Qwen2.5-7B/aime/3/12", ["Qwen/Qwen2.5-7B", "Qwen"]) == ("Qwen/Qwen2.5-7B", "aime/3", 12)
    assert ann.parse_cluster_target_id("aime/3/7") == ("aime/3", 7)
    with pytest.raises(PathscopeError):
        ann.parse_sample_target_id("other/p/1", ["rl"])


def test_marks_survive_reopen(run_path, run):
    ann.mark(run, "sample", "rl/p1/1", "novel", "alice")
    run.close()
    with open_run(run_path) as again:
        assert ann.current(again, "sample", "rl/p1/1", "alice").label == "novel"


def test_snapshot_refuses_to_save(run_path, run):
    run.close()
    with open_run(run_path, snapshot=True) as snap:
        with pytest.raises(RunError, match="snapshot"):
            ann.mark(snap, "sample", "rl/p1/1", "novel", "alice")
    with open_run(run_path, read_only=True) as ro:
        assert ro.count("annotations") == 0


# -- the queue ------------------------------------------------------------------


def test_sample_queue_order_progress_resume(run):
    qa = ReviewQueue(run, "alice")
    correct_rl = [i for i in range(review_data.N) if i not in review_data.RL_WRONG]
    assert len(qa) == len(review_data.PROBLEMS) * len(correct_rl)
    assert [qa.target_id(i) for i in range(3)] == [f"rl/p1/{i}" for i in correct_rl[:3]]
    assert qa.progress_text() == f"0/{len(qa)} reviewed"
    assert qa.resume_position() == 0
    qa.mark(0, "already_in_base")
    qa.mark(1, "novel")
    qa.note(2, "not sure yet")  # a note alone is not a review
    assert qa.progress() == (2, len(qa))
    assert qa.resume_position() == 2
    # a fresh queue (a reopening) resumes at the same place; bob starts at 0
    assert ReviewQueue(run, "alice").resume_position() == 2
    assert ReviewQueue(run, "bob").resume_position() == 0
    pos, restored = qa.undo()  # undoes the note on item 2
    assert pos == 2 and restored.label == "cleared" and restored.note is None
    pos, restored = qa.undo()
    assert pos == 1 and restored.label == "cleared"
    assert qa.progress()[0] == 1
    assert ReviewQueue(run, "alice").resume_position() == 1


def test_sample_item_evidence(run):
    qa = ReviewQueue(run, "alice", problem_id="p1")
    it = qa.item(0)  # rl/p1/1: shares cluster 0 with correct base
    assert it.target_id == "rl/p1/1"
    assert it.text.startswith("RL p1 sample 1")
    assert it.nearest_base_idx == 1 and it.nearest_base_text.startswith("Base p1 sample 1")
    assert it.suggested_mark == "already_in_base" and it.shares_cluster_with_correct_base
    assert it.cluster["cluster_id"] == 0 and it.cluster["base_correct"] == 3
    assert it.base_same_answer == (3, review_data.N)
    last = qa.item(len(qa) - 1)  # rl/p1/6: RL-only cluster
    assert last.suggested_mark == "possibly_novel" and last.cluster["base_n"] == 0


def test_cluster_queue(run):
    qc = ReviewQueue(run, "alice", kind="cluster")
    # clusters 0 and 1 hold correct rl samples in each problem; 2 is base-only
    assert [qc.target_id(i) for i in range(len(qc))] == [f"{p}/{c}" for p in review_data.PROBLEMS for c in (0, 1)]
    shared, novel = qc.item(0), qc.item(1)
    assert shared.suggested_mark == "already_in_base"
    assert novel.suggested_mark == "possibly_novel" and novel.cluster["base_n"] == 0 and novel.cluster["rl_correct"] == 3
    assert novel.text.startswith("RL p1 sample")
    qc.mark(1, "novel")
    assert ann.current(run, "cluster", "p1/1", "alice").label == "novel"


def test_queue_needs_two_models(new_run):
    new_run.ensure_model("only", role="base")
    with pytest.raises(PathscopeError, match="two models"):
        ReviewQueue(new_run, "alice")


def test_resolve_reviewer(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_reviewer("carol") == "carol"
    (tmp_path / "pathscope.toml").write_text('[review]\nreviewer = "dana"\n')
    assert resolve_reviewer(None) == "dana"
    assert resolve_reviewer("carol") == "carol"
    (tmp_path / "pathscope.toml").write_text("[review]\nreviewer = 3\n")
    with pytest.raises(PathscopeError, match="review.reviewer"):
        resolve_reviewer(None)
    (tmp_path / "pathscope.toml").unlink()
    assert resolve_reviewer(None)  # the OS user


# -- a model check: any sequence of marks, notes and undos ------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("mark"), st.integers(0, 2), st.sampled_from(["already_in_base", "novel", "unsure"])),
        st.tuples(st.just("note"), st.integers(0, 2), st.text("abc xyz[]/", min_size=0, max_size=8)),
        st.tuples(st.just("undo"), st.just(0), st.just("")),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS)
def test_queue_matches_a_simple_model(run, ops):
    """Marks/notes/undos through the queue agree with a plain stack model; the
    table only ever grows; a fresh queue (a reopening) sees the same state."""
    reviewer = f"r{run.count('annotations')}"  # a fresh reviewer per example keeps examples apart
    q = ReviewQueue(run, reviewer, problem_id="p1")
    state = {i: ("cleared", None) for i in range(3)}  # position -> (label, note)
    history = {i: [] for i in range(3)}  # position -> states before each of this session's writes
    stack = []
    writes = 0
    before = run.count("annotations")
    for op, pos, arg in ops:
        if op == "mark":
            history[pos].append(state[pos])
            q.mark(pos, arg)
            state[pos] = (arg, state[pos][1])
            stack.append(pos)
            writes += 1
        elif op == "note":
            history[pos].append(state[pos])
            q.note(pos, arg)
            state[pos] = (state[pos][0], arg or None)
            stack.append(pos)
            writes += 1
        else:
            got = q.undo()
            if not stack:
                assert got is None
                continue
            pos = stack.pop()
            assert got[0] == pos
            state[pos] = history[pos].pop()
            writes += 1
    assert run.count("annotations") - before == writes  # one appended row per write, none changed
    for pos in range(3):
        cur = ann.current(run, "sample", q.target_id(pos), reviewer)
        got = (cur.label, cur.note) if cur else ("cleared", None)
        assert got == state[pos]
    fresh = ReviewQueue(run, reviewer, problem_id="p1")
    assert fresh.progress() == q.progress() == (sum(1 for s in state.values() if s[0] != "cleared"), len(q))


def test_queue_keys_with_slashes(run):
    """Model names and problem ids with '/' map to the right queue rows both ways."""
    with run.transaction():
        run.con.execute("UPDATE models SET name = 'org/rl' WHERE name = 'rl'")
        run.ensure_model("org", role="other")  # a model whose name prefixes the other's
        for table in ("samples", "verdicts", "evidence", "cluster_members", "tree_paths"):
            run.con.execute(f"UPDATE {table} SET problem_id = 'set/p1' WHERE problem_id = 'p1'")
        run.con.execute("UPDATE problems SET problem_id = 'set/p1' WHERE problem_id = 'p1'")
    qa = ReviewQueue(run, "alice", model="org/rl", base="base")
    assert qa.target_id(0) == "org/rl/p2/1"  # 'p2' < 'p3' < 'set/p1'
    pos = qa.position_of("org/rl/set/p1/4")
    assert pos is not None and qa.key(pos) == ("set/p1", 4)
    qa.mark(pos, "novel")
    ann.mark(run, "sample", "org/set/p1/4", "unsure", "alice")  # a mark of model 'org', not 'org/rl'
    again = ReviewQueue(run, "alice", model="org/rl", base="base")
    assert again.label(pos) == "novel" and again.progress()[0] == 1
    assert qa.position_of("org/set/p1/4") is None and qa.position_of("org/rl/set/p1/x") is None
