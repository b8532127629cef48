"""Reasoning extraction and step splitting (no model)."""

from __future__ import annotations

import json

from conftest import MATH_COT_100, require_shared
from pathscope.analysis.text import reasoning_span, reasoning_text, split_steps, step_texts


def test_strips_echo_and_template_debris():
    prompt = "What is 2 + 2?"
    text = (f"{prompt}\nPlease reason step by step, and put your final answer within \\boxed{{}}.\n"
            "<|im_start|>assistant\n2 + 2 = 4.\n\nSo \\boxed{4}.<|im_end|><|endoftext|>")
    assert reasoning_text(text, prompt) == "2 + 2 = 4.\n\nSo \\boxed{4}."
    assert reasoning_text("  plain answer  ") == "plain answer"


def test_display_math_joins_its_sentence_and_numbered_steps_split():
    text = ("We multiply the numbers together:\n\n\\[\n10 \\cdot 6 = 60\n\\]\n\n"
            "Then we finish the computation in two steps:\n1. Multiply by 7 to get 420 as the product.\n2. Round the result to the nearest whole number.\n\n"
            "Therefore the answer is \\(\\boxed{420}\\).")
    steps = step_texts(text)
    assert steps[0].startswith("We multiply") and steps[0].endswith("\\]")
    assert any(s.startswith("1. Multiply") for s in steps) and any(s.startswith("2. Round") for s in steps)
    assert steps[-1].startswith("Therefore")


def test_long_paragraph_splits_at_sentences_outside_math():
    sent = "We note that \\(a. B\\) holds here and the value stays the same. "
    text = sent * 30
    spans = split_steps(text, max_chars=300)
    assert len(spans) > 1
    for a, b in spans:
        piece = text[a:b]
        assert piece.count("\\(") == piece.count("\\)")  # never cut inside inline math


def test_spans_ordered_disjoint_and_deterministic_on_real_cots():
    path = require_shared(MATH_COT_100)
    rows = [json.loads(line) for line in path.read_text().splitlines()[:25]]
    for r in rows:
        for text in r["code"]:
            span = reasoning_span(text, r["question"])
            steps = split_steps(text, span)
            assert steps == split_steps(text, span)
            assert steps, "a real CoT has at least one step"
            prev = span[0]
            for a, b in steps:
                assert prev <= a < b <= span[1]
                assert text[a:b] == text[a:b].strip()
                prev = b
            # Nothing but whitespace is lost between steps.
            covered = "".join(text[a:b] for a, b in steps)
            assert "".join(covered.split()) == "".join(text[span[0]:span[1]].split())
