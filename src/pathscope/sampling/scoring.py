"""Teacher-forced perplexity of stored responses under a scorer model.

The paper's PPL_scorer(Y) = exp(-mean_t log P(y_t | x, y_<t)) over the
response tokens y, where x is the prompt the sample was made with: the
template recorded in the sampled model's ``sampling_params`` (``qwen-boxed``
when the run has no record, e.g. imported samples), rendered through the
scorer's tokenizer.  Prompt and response are tokenized separately and joined,
as they were during generation; the end-of-sequence token is not part of y.

Two engines: a transformers forward pass (batched; CPU or GPU) and vLLM's
``prompt_logprobs``.  Results go to ``scores``; re-running skips samples the
scorer has already scored.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Iterator

from ..errors import InputError, RunError
from .config import PromptSpec
from .prompts import describe, from_description, render


class HFScorer:
    """Log-probabilities of response tokens from one forward pass per batch."""

    def __init__(self, path: str, dtype: str = "auto", device: str = "auto", batch_tokens: int = 4096):
        from .hf_backend import load_causal_lm, load_tokenizer
        from .prefix import decoder_of

        self.tokenizer = load_tokenizer(path)
        self.model, self.device = load_causal_lm(path, dtype, device)
        self.batch_tokens = batch_tokens
        self.body = decoder_of(self.model)
        pad = self.tokenizer.pad_token_id
        self.pad = pad if pad is not None else 0

    def logprobs(self, pairs: list[tuple[list[int], list[int]]]) -> list[list[float]]:
        """For each (prompt ids, response ids): log P of every response token.

        The prompt prefix all pairs share (system prompt, few-shot examples) is
        encoded once and broadcast to each batch; rows carry only their own tokens.
        """
        import torch

        with torch.no_grad():  # not set_grad_enabled(False): that would leak into the caller's process
            return self._logprobs(pairs)

    def _logprobs(self, pairs: list[tuple[list[int], list[int]]]) -> list[list[float]]:
        from .prefix import common_prefix, encode_prefix

        prefix = common_prefix([p for p, _ in pairs]) if len(pairs) > 1 else []
        kv = encode_prefix(self.body, prefix, self.device) if len(prefix) >= 16 and self.body is not None else None
        skip = len(prefix) if kv is not None else 0
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        out: list[list[float] | None] = [None] * len(pairs)
        batch: list[int] = []
        longest = 0
        for i in order:
            n = len(pairs[i][0]) + len(pairs[i][1]) - skip
            if batch and max(longest, n) * (len(batch) + 1) > self.batch_tokens:
                self._run(pairs, batch, out, kv, skip)
                batch, longest = [], 0
            batch.append(i)
            longest = max(longest, n)
        if batch:
            self._run(pairs, batch, out, kv, skip)
        return out  # type: ignore[return-value]

    def _run(self, pairs, batch: list[int], out: list, kv=None, skip: int = 0) -> None:
        import torch

        from .prefix import broadcast_cache

        seqs = [(pairs[i][0] + pairs[i][1])[skip:] for i in batch]
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad, dtype=torch.long)
        mask = torch.zeros((len(seqs), width + skip), dtype=torch.long)
        mask[:, :skip] = 1
        for row, s in enumerate(seqs):
            ids[row, : len(s)] = torch.tensor(s)
            mask[row, skip : skip + len(s)] = 1
        extra = {}
        if kv is not None:
            extra = {"past_key_values": broadcast_cache(self.body, kv, len(seqs)), "use_cache": True}
        logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device), **extra).logits
        for row, i in enumerate(batch):
            p, r = len(pairs[i][0]) - skip, len(pairs[i][1])
            if r == 0:
                out[i] = []
                continue
            # Position t predicts token t+1: response token j sits at p + j.
            lp = torch.log_softmax(logits[row, p - 1 : p + r - 1].float(), dim=-1)
            tgt = ids[row, p : p + r].to(lp.device)
            out[i] = lp.gather(1, tgt[:, None]).squeeze(1).tolist()


class VLLMScorer:
    """Log-probabilities from vLLM's ``prompt_logprobs`` (one engine, any device)."""

    def __init__(self, path: str, dtype: str = "auto", tensor_parallel_size: int = 1, engine_args: dict | None = None):
        from .hf_backend import load_tokenizer
        from .vllm_backend import make_llm

        self.tokenizer = load_tokenizer(path)
        self.llm = make_llm(path, dtype, tensor_parallel_size, engine_args or {})

    def logprobs(self, pairs: list[tuple[list[int], list[int]]]) -> list[list[float]]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        params = SamplingParams(max_tokens=1, temperature=1.0, prompt_logprobs=0, detokenize=False)
        prompts = [TokensPrompt(prompt_token_ids=p + r) for p, r in pairs]
        outs = self.llm.generate(prompts, params, use_tqdm=False)
        result = []
        for (p, r), o in zip(pairs, outs):
            plp = o.prompt_logprobs
            seq = p + r
            result.append([plp[k][seq[k]].logprob for k in range(len(p), len(seq))])
        return result


def _scorer_engine(path: str, backend: str, dtype: str, device: str, tensor_parallel_size: int, batch_tokens: int, engine_args: dict | None):
    if backend == "transformers":
        return HFScorer(path, dtype, device, batch_tokens)
    if backend == "vllm":
        return VLLMScorer(path, dtype, tensor_parallel_size, engine_args)
    raise InputError(f"--backend: scoring runs on transformers or vllm, not {backend!r}.")


def _resolve_scorer(run, scorer: str, name: str | None, backend: str) -> tuple[int, str, bool]:
    """(scorer model id, model path, registered now) — reuse a model of the run
    when ``scorer`` names one (by name or path); else register role 'scorer'."""
    for m in run.models():
        if scorer in (m.name, m.path_or_endpoint) or (name and m.name == name):
            if not m.path_or_endpoint or m.backend == "openai":
                raise InputError(f"--scorer: model {m.name!r} has no local model path to score with.")
            if not Path(m.path_or_endpoint).exists():
                raise InputError(f"--scorer: model {m.name!r} points to {m.path_or_endpoint}, which does not exist here.")
            return m.model_id, m.path_or_endpoint, False
    if not Path(scorer).exists():
        names = ", ".join(m.name for m in run.models()) or "none"
        raise InputError(f"--scorer: {scorer!r} is neither a model of the run ({names}) nor a model folder.")
    label = name or Path(scorer).resolve().name
    model_id = run.ensure_model(label, "scorer", str(scorer), backend)
    return model_id, str(scorer), True


def score_run(
    run: Any,
    scorer: str,
    models: list[str] | None = None,
    backend: str = "transformers",
    name: str | None = None,
    template: str | None = None,
    dtype: str = "auto",
    device: str = "auto",
    tensor_parallel_size: int = 1,
    batch_tokens: int = 4096,
    commit_every: int = 256,
    engine_args: dict | None = None,
    progress: bool = False,
) -> dict:
    """Score every not-yet-scored sample of ``models`` (default: all sampled
    models) under ``scorer`` (a model name of the run, or a model folder).

    Returns {model name: {"scored", "seconds"}}.
    """
    from ..store import open_run
    from ..store.run import library_versions
    from ..store.sampling import add_scores, unscored_counts, unscored_samples

    if isinstance(run, (str, Path)):
        with open_run(run) as r:
            return score_run(r, scorer, models, backend, name, template, dtype, device, tensor_parallel_size,
                             batch_tokens, commit_every, engine_args, progress)
    scorer_id, path, _ = _resolve_scorer(run, scorer, name, backend)
    targets = [m for m in run.models() if m.role != "scorer" or m.model_id == scorer_id]
    if models:
        known = {m.name: m for m in run.models()}
        missing = [n for n in models if n not in known]
        if missing:
            raise InputError(f"--models: no model named {missing[0]!r} in {run.path} (models: {', '.join(known)}).")
        targets = [known[n] for n in models]
    todo = {m.model_id: unscored_counts(run, scorer_id, m.model_id) for m in targets}
    todo = {k: v for k, v in todo.items() if v}
    summary: dict[str, dict] = {m.name: {"scored": 0, "seconds": 0.0} for m in targets}
    if not todo:
        return summary
    engine = _scorer_engine(path, backend, dtype, device, tensor_parallel_size, batch_tokens, engine_args)
    tok = engine.tokenizer
    by_id = {m.model_id: m for m in run.models()}
    specs = {
        mid: PromptSpec(template, None) if template else from_description((by_id[mid].sampling_params or {}).get("prompt"))
        for mid in todo
    }
    stage = run.start_stage(
        "score",
        {"scorer": by_id[scorer_id].name, "scorer_path": path, "backend": backend, "dtype": dtype,
         "prompts": {by_id[mid].name: describe(specs[mid], tok) for mid in todo}},
        library_versions(),
    )
    total = sum(c for v in todo.values() for _, c in v)
    done = 0
    bar = _bar(progress, total)
    try:
        for mid, counts in todo.items():
            t0 = time.perf_counter()
            prompt_cache: dict[str, list[int]] = {}
            for pids in _problem_chunks(counts, commit_every):
                chunk = unscored_samples(run, scorer_id, mid, pids)
                pairs = []
                for _, pid, _, question, text in chunk:
                    if pid not in prompt_cache:
                        prompt_cache[pid] = render(specs[mid], question, tok).token_ids
                    pairs.append((prompt_cache[pid], list(tok(text, add_special_tokens=False)["input_ids"])))
                lps = engine.logprobs(pairs)
                table = _score_table(chunk, lps, scorer_id)
                with run.transaction():
                    added = add_scores(run, table)
                summary[by_id[mid].name]["scored"] += added
                done += len(chunk)
                if bar:
                    bar.update(bar.task_ids[0], completed=done)
            summary[by_id[mid].name]["seconds"] = round(time.perf_counter() - t0, 3)
    except KeyboardInterrupt:
        run.finish_stage(stage, "interrupted", summary)
        raise
    finally:
        if bar:
            bar.stop()
    run.finish_stage(stage, "done", summary)
    return summary


def _problem_chunks(counts: list[tuple[str, int]], size: int) -> Iterator[list[str]]:
    """Problem ids in groups holding about ``size`` samples (never splitting a problem)."""
    group, n = [], 0
    for pid, c in counts:
        group.append(pid)
        n += c
        if n >= size:
            yield group
            group, n = [], 0
    if group:
        yield group


def _score_table(chunk, lps: list[list[float]], scorer_id: int):
    import pyarrow as pa

    ppl, mean, n = [], [], []
    for lp in lps:
        if lp:
            m = sum(lp) / len(lp)
            mean.append(m)
            ppl.append(math.exp(-m))
        else:
            mean.append(None)
            ppl.append(None)
        n.append(len(lp))
    return pa.table({
        "model_id": pa.array([r[0] for r in chunk], pa.int32()),
        "problem_id": [r[1] for r in chunk],
        "sample_idx": pa.array([r[2] for r in chunk], pa.int32()),
        "scorer_model_id": pa.array([scorer_id] * len(chunk), pa.int32()),
        "ppl": pa.array(ppl, pa.float64()),
        "mean_logprob": pa.array(mean, pa.float64()),
        "n_tokens": pa.array(n, pa.int32()),
    })


def _bar(enabled: bool, total: int):
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("[bold]scoring"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=Console(stderr=True))
    bar.add_task("score", total=total)
    bar.start()
    return bar
