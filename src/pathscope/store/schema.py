"""The run file's schema, as numbered migrations.

A run records its ``schema_version`` in ``meta``.  Opening a run applies every
migration above that version, in order, inside one transaction.  A run whose
version is higher than :data:`SCHEMA_VERSION` was written by a newer pathscope
and is refused untouched.

Keys: models are referred to by a small integer ``model_id`` (names are
user-facing and may be long); problems by their string ``problem_id``; a sample
by ``(model_id, problem_id, sample_idx)``.
"""

from __future__ import annotations

# Migration 1: the whole data model of DESIGN §4.
_V1 = [
    """
    CREATE TABLE meta (
        key   VARCHAR PRIMARY KEY,
        value VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE models (
        model_id         INTEGER PRIMARY KEY,
        name             VARCHAR NOT NULL UNIQUE,
        role             VARCHAR NOT NULL,
        path_or_endpoint VARCHAR,
        backend          VARCHAR,
        sampling_params  JSON,
        created_at       TIMESTAMP DEFAULT current_timestamp
    )
    """,
    """
    CREATE TABLE problems (
        problem_id VARCHAR PRIMARY KEY,
        source     VARCHAR,
        prompt     VARCHAR NOT NULL,
        answer     VARCHAR,
        kind       VARCHAR NOT NULL DEFAULT 'math',
        tests      JSON,
        metadata   JSON
    )
    """,
    # Samples carry no index beyond the primary key: bulk imports stay fast.
    """
    CREATE TABLE samples (
        model_id      INTEGER NOT NULL,
        problem_id    VARCHAR NOT NULL,
        sample_idx    INTEGER NOT NULL,
        text          VARCHAR NOT NULL,
        n_tokens      INTEGER,
        finish_reason VARCHAR,
        cum_logprob   DOUBLE,
        seed          BIGINT,
        created_at    TIMESTAMP DEFAULT current_timestamp,
        PRIMARY KEY (model_id, problem_id, sample_idx)
    )
    """,
    # One row per sample per verifier.  'imported' holds verdicts found in an
    # imported file; the effective verdict (view `verdict`) prefers any other
    # verifier over 'imported', then the newest.
    """
    CREATE TABLE verdicts (
        model_id   INTEGER NOT NULL,
        problem_id VARCHAR NOT NULL,
        sample_idx INTEGER NOT NULL,
        verifier   VARCHAR NOT NULL,
        extracted  VARCHAR,
        correct    BOOLEAN NOT NULL,
        status     VARCHAR,
        detail     VARCHAR,
        created_at TIMESTAMP DEFAULT current_timestamp,
        PRIMARY KEY (model_id, problem_id, sample_idx, verifier)
    )
    """,
    """
    CREATE VIEW verdict AS
    SELECT model_id, problem_id, sample_idx, verifier, extracted, correct, status, detail, created_at
    FROM verdicts
    QUALIFY row_number() OVER (
        PARTITION BY model_id, problem_id, sample_idx
        ORDER BY (verifier = 'imported'), created_at DESC, verifier
    ) = 1
    """,
    # Teacher-forced perplexity of a stored response under a scorer model.
    """
    CREATE TABLE scores (
        model_id        INTEGER NOT NULL,
        problem_id      VARCHAR NOT NULL,
        sample_idx      INTEGER NOT NULL,
        scorer_model_id INTEGER NOT NULL,
        ppl             DOUBLE,
        mean_logprob    DOUBLE,
        n_tokens        INTEGER,
        created_at      TIMESTAMP DEFAULT current_timestamp,
        PRIMARY KEY (model_id, problem_id, sample_idx, scorer_model_id)
    )
    """,
    # --- analysis (pathscope analyze; see docs/analysis.md) ---------------------
    # Steps of a CoT as character offsets into samples.text (0-based, end
    # exclusive; the text is substring(text, start_char + 1, end_char - start_char)),
    # so the run holds no second copy of every CoT.
    """
    CREATE TABLE steps (
        model_id   INTEGER NOT NULL,
        problem_id VARCHAR NOT NULL,
        sample_idx INTEGER NOT NULL,
        step_idx   INTEGER NOT NULL,
        start_char INTEGER NOT NULL,
        end_char   INTEGER NOT NULL,
        PRIMARY KEY (model_id, problem_id, sample_idx, step_idx)
    )
    """,
    # step_idx = -1 is the embedding of the whole CoT (the only kind stored by
    # default: step vectors are computed per problem while building the tree).
    """
    CREATE TABLE embeddings (
        model_id   INTEGER NOT NULL,
        problem_id VARCHAR NOT NULL,
        sample_idx INTEGER NOT NULL,
        step_idx   INTEGER NOT NULL,
        embedder   VARCHAR NOT NULL,
        vec        FLOAT[] NOT NULL,
        PRIMARY KEY (model_id, problem_id, sample_idx, step_idx, embedder)
    )
    """,
    # Strategy clusters of one problem over all analysed models' CoTs.
    # counts: {"<model name>": {"n", "correct", "incorrect", "unknown"}} at analysis time.
    """
    CREATE TABLE clusters (
        problem_id        VARCHAR NOT NULL,
        cluster_id        INTEGER NOT NULL,
        label             VARCHAR,
        size              INTEGER NOT NULL,
        medoid_model_id   INTEGER,
        medoid_sample_idx INTEGER,
        counts            JSON,
        PRIMARY KEY (problem_id, cluster_id)
    )
    """,
    """
    CREATE TABLE cluster_members (
        model_id   INTEGER NOT NULL,
        problem_id VARCHAR NOT NULL,
        sample_idx INTEGER NOT NULL,
        cluster_id INTEGER NOT NULL,
        PRIMARY KEY (model_id, problem_id, sample_idx)
    )
    """,
    # The step tree: nodes with parent_id NULL are the first steps (depth 0).
    # counts: {"n": samples through the node, "end": samples whose path ends
    # here (n = end + the children's n), "models": per model as in clusters,
    # "step_cluster", "rep": [model_id, sample_idx] of rep_text}.
    """
    CREATE TABLE tree_nodes (
        problem_id   VARCHAR NOT NULL,
        node_id      INTEGER NOT NULL,
        parent_id    INTEGER,
        depth        INTEGER NOT NULL,
        label        VARCHAR,
        rep_text     VARCHAR,
        is_other     BOOLEAN NOT NULL DEFAULT false,
        n_children   INTEGER NOT NULL DEFAULT 0,
        counts       JSON,
        PRIMARY KEY (problem_id, node_id)
    )
    """,
    # The path of one sample: the node ids from the root to its leaf.
    """
    CREATE TABLE tree_paths (
        model_id   INTEGER NOT NULL,
        problem_id VARCHAR NOT NULL,
        sample_idx INTEGER NOT NULL,
        leaf_id    INTEGER NOT NULL,
        node_ids   INTEGER[] NOT NULL,
        PRIMARY KEY (model_id, problem_id, sample_idx)
    )
    """,
    # For a correct sample of a compared model: its closest base evidence and a
    # *suggested* mark ('already_in_base' | 'possibly_novel') for the reviewer.
    """
    CREATE TABLE evidence (
        model_id            INTEGER NOT NULL,
        problem_id          VARCHAR NOT NULL,
        sample_idx          INTEGER NOT NULL,
        base_model_id       INTEGER NOT NULL,
        nearest_base_idx    INTEGER,
        similarity          DOUBLE,
        nearest_base_correct BOOLEAN,
        shares_cluster_with_correct_base BOOLEAN,
        ppl_under_base      DOUBLE,
        answer_in_base      BOOLEAN,
        suggested_mark      VARCHAR,
        confidence          DOUBLE,
        PRIMARY KEY (model_id, problem_id, sample_idx, base_model_id)
    )
    """,
    # The rest of the evidence behind a suggestion (a side table, so evidence
    # keeps its column order): the nearest *correct* base sample, where the
    # sample's perplexity under base falls among base's own responses
    # (0 = below all of them), and the signals the suggestion weighed.
    """
    CREATE TABLE evidence_detail (
        model_id                 INTEGER NOT NULL,
        problem_id               VARCHAR NOT NULL,
        sample_idx               INTEGER NOT NULL,
        base_model_id            INTEGER NOT NULL,
        nearest_correct_base_idx INTEGER,
        correct_similarity       DOUBLE,
        ppl_base_quantile        DOUBLE,
        n_base_samples           INTEGER NOT NULL,
        signals                  JSON,
        PRIMARY KEY (model_id, problem_id, sample_idx, base_model_id)
    )
    """,
    # Which problems each analysis stage has done, and for which inputs: a stage
    # redoes a problem only when its fingerprint (samples, embedder, params) changed.
    """
    CREATE TABLE analysis_done (
        problem_id  VARCHAR NOT NULL,
        stage       VARCHAR NOT NULL,
        fingerprint VARCHAR NOT NULL,
        done_at     TIMESTAMP NOT NULL DEFAULT current_timestamp,
        PRIMARY KEY (problem_id, stage)
    )
    """,
    # Append-only review history.  The current mark of a target for a reviewer
    # is the row with the highest annotation_id; undo appends a 'cleared' row.
    "CREATE SEQUENCE annotation_seq START 1",
    """
    CREATE TABLE annotations (
        annotation_id BIGINT PRIMARY KEY DEFAULT nextval('annotation_seq'),
        target_kind   VARCHAR NOT NULL,
        target_id     VARCHAR NOT NULL,
        label         VARCHAR,
        note          VARCHAR,
        reviewer      VARCHAR NOT NULL,
        created_at    TIMESTAMP NOT NULL DEFAULT current_timestamp
    )
    """,
    # What ran against this run, with its exact config and library versions.
    "CREATE SEQUENCE stage_seq START 1",
    """
    CREATE TABLE stages (
        stage_run_id BIGINT PRIMARY KEY DEFAULT nextval('stage_seq'),
        stage        VARCHAR NOT NULL,
        params       JSON,
        versions     JSON,
        started_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
        finished_at  TIMESTAMP,
        status       VARCHAR NOT NULL DEFAULT 'running',
        summary      JSON
    )
    """,
]

#: (version, statements) in ascending order.  Append; never edit a shipped one.
MIGRATIONS: list[tuple[int, list[str]]] = [
    (1, _V1),
]

SCHEMA_VERSION = MIGRATIONS[-1][0]

#: Written into ``meta.created_by``; how a pathscope run is recognised.
MAGIC = "pathscope"
