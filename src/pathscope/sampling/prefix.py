"""Encode a prompt prefix that every sequence shares once, not once per row.

Few-shot prompts put hundreds of identical tokens (system prompt, worked
examples) in front of every question.  Teacher-forced passes over many
(prompt, response) pairs, the perplexity scorer and the sample study's
fine-tuning step, run that prefix once and broadcast its keys and values to
every row of a batch; the rows then carry only their own tokens.  Results equal
the full-sequence pass (tests compare logprobs, losses and gradients).
"""

from __future__ import annotations


def common_prefix(seqs: list[list[int]]) -> list[int]:
    """The longest token prefix all ``seqs`` share, leaving each at least one token of its own
    (the last prompt token's logits predict the first response token)."""
    if not seqs:
        return []
    n = max(0, min(len(s) for s in seqs) - 1)
    first = seqs[0]
    for i in range(n):
        tok = first[i]
        if any(s[i] != tok for s in seqs):
            return first[:i]
    return first[:n]


def encode_prefix(body, prefix: list[int], device=None) -> list[tuple]:
    """Keys and values of ``prefix`` in every layer of ``body`` (the decoder under the LM head)."""
    import torch
    from transformers import DynamicCache

    cache = DynamicCache(config=body.config)
    ids = torch.tensor([prefix], device=device)
    body(input_ids=ids, past_key_values=cache, use_cache=True)
    return [(layer.keys, layer.values) for layer in cache.layers]


def broadcast_cache(body, kv: list[tuple], rows: int):
    """A fresh cache holding ``kv`` for ``rows`` rows (a view: no copy, gradients flow back)."""
    from transformers import DynamicCache

    cache = DynamicCache(config=body.config)
    for i, (k, v) in enumerate(kv):
        cache.update(k.expand(rows, -1, -1, -1), v.expand(rows, -1, -1, -1), i)
    return cache


def decoder_of(model):
    """The decoder stack of a causal LM (``model.model`` for Llama-style models)."""
    body = getattr(model, "model", None)
    if body is None and hasattr(model, "get_decoder"):
        body = model.get_decoder()
    return body
