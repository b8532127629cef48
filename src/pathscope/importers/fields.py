"""Field names of generation files, and JSON value types as DuckDB types.

Each import format recognises its fields from a list of common names (best
first); ``--map ROLE=FIELD`` overrides any of them.  Types are inferred from
the first records of the file so that DuckDB's reader can be told exactly
which fields to read, as what, and skip the rest.
"""

from __future__ import annotations

from typing import Any, Sequence

#: Roles of a one-sample-per-line file.
SAMPLE_CANDIDATES: dict[str, tuple[str, ...]] = {
    "id": ("problem_id", "idx", "id", "unique_id", "question_id", "task_id", "doc_id", "qid"),
    "prompt": ("problem", "question", "prompt", "query", "input", "instruction"),
    "answer": ("gt", "answer", "ground_truth", "target", "expected_answer", "final_answer", "label"),
    "solution": ("solution", "gt_cot"),
    "text": ("text", "response", "completion", "output", "generation", "model_output", "code"),
    "sample_idx": ("sample_idx", "sample_index", "sample_id"),
    "extracted": ("extracted", "pred", "prediction", "extracted_answer", "parsed_answer", "model_answer"),
    "correct": ("correct", "is_correct", "score", "verdict", "reward", "exact_match", "acc", "accuracy"),
    "n_tokens": ("n_tokens", "num_tokens", "output_tokens", "completion_tokens"),
    "finish_reason": ("finish_reason", "stop_reason"),
    "cum_logprob": ("cum_logprob", "cumulative_logprob"),
    "seed": ("seed",),
}

#: Roles of a one-problem-per-line file; text/extracted/correct are parallel lists.
GROUPED_CANDIDATES: dict[str, tuple[str, ...]] = {
    "id": ("problem_id", "idx", "id", "unique_id", "question_id", "task_id", "qid"),
    "prompt": ("problem", "question", "prompt", "query", "input", "instruction"),
    "answer": ("gt", "answer", "ground_truth", "target", "expected_answer", "final_answer", "label"),
    "solution": ("solution", "gt_cot"),
    "text": ("code", "responses", "response", "outputs", "completions", "generations", "samples", "texts", "text"),
    "extracted": ("pred", "preds", "predictions", "extracted", "extracted_answers"),
    "correct": ("score", "scores", "correct", "is_correct", "verdicts", "rewards"),
}

#: The Qwen2.5-Math evaluation harness writes exactly these.
QWEN_EVAL_CANDIDATES: dict[str, tuple[str, ...]] = {
    "id": ("idx",),
    "prompt": ("question", "problem"),
    "answer": ("gt", "answer"),
    "solution": ("gt_cot", "solution"),
    "text": ("code", "response"),
    "extracted": ("pred",),
    "correct": ("score",),
}

#: Roles whose field is a list in grouped files.
LIST_ROLES = ("text", "extracted", "correct")


def json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "null"


def _scalar_type(kinds: set[str]) -> str:
    kinds = kinds - {"null"}
    if not kinds:
        return "VARCHAR"
    if kinds == {"bool"}:
        return "BOOLEAN"
    if kinds == {"int"}:
        return "BIGINT"
    if kinds <= {"int", "float"}:
        return "DOUBLE"
    if kinds & {"list", "object"}:
        return "JSON"
    return "VARCHAR"


def infer_type(values: Sequence[Any]) -> str:
    """The DuckDB type for a field from sample values (lists become ``T[]``)."""
    kinds = {json_kind(v) for v in values}
    if kinds - {"null"} == {"list"}:
        elems = {json_kind(e) for v in values if isinstance(v, list) for e in v}
        return _scalar_type(elems) + "[]"
    return _scalar_type(kinds)


def matches_type(value: Any, duck_type: str) -> bool:
    """Does a JSON value fit the type chosen for its field?  (The Python check
    that finds the exact line when DuckDB's bulk reader refuses a file.)"""
    if value is None:
        return True
    if duck_type.endswith("[]"):
        return isinstance(value, list) and all(matches_type(e, duck_type[:-2]) for e in value)
    kind = json_kind(value)
    if duck_type == "BOOLEAN":
        return kind == "bool"
    if duck_type == "BIGINT":
        return kind == "int"
    if duck_type == "DOUBLE":
        return kind in ("int", "float")
    if duck_type == "VARCHAR":
        return kind in ("str", "int", "float", "bool")
    return True  # JSON


def type_words(duck_type: str) -> str:
    if duck_type.endswith("[]"):
        return "a list of " + {"BOOLEAN": "booleans", "BIGINT": "integers", "DOUBLE": "numbers"}.get(duck_type[:-2], "strings")
    return {"BOOLEAN": "a boolean", "BIGINT": "an integer", "DOUBLE": "a number", "VARCHAR": "a string"}.get(duck_type, "a JSON value")
