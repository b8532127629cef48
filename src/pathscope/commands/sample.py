"""``pathscope sample RUN --config pathscope.toml``: sample CoTs into a run."""

from __future__ import annotations

import click

from ..errors import Interrupted
from ._common import err_console, run_path_argument


def _split(values: tuple[str, ...]) -> list[str]:
    return [v for item in values for v in item.split(",") if v]


@click.command(name="sample")
@run_path_argument
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="pathscope.toml with [[models]], [sampling], [prompt], [problems].")
@click.option("--model", "model_path", help="Sample this model (path, or URL with --backend openai) instead of / besides the config's.")
@click.option("--name", "model_name", help="Name for --model (default: the folder name).")
@click.option("--role", help="Role for --model (base, rl, or any label; default base).")
@click.option("--models", "only_models", multiple=True, help="Only these config models (comma-separated names).")
@click.option("--backend", type=click.Choice(["vllm", "transformers", "openai"]), help="Override every model's backend.")
@click.option("--dtype", type=click.Choice(["auto", "float32", "float16", "bfloat16"]))
@click.option("--device", help="transformers device: auto, cpu, cuda, cuda:1 ...")
@click.option("--tp", "tensor_parallel_size", type=int, help="vLLM tensor_parallel_size.")
@click.option("--dp", "data_parallel_size", type=int, help="vLLM data parallelism: engines, each on its own GPUs.")
@click.option("-n", "--n", type=int, help="Samples per problem (default 8).")
@click.option("--temperature", type=float, help="Default 0.6 (the paper's).")
@click.option("--top-p", "top_p", type=float, help="Default 0.95.")
@click.option("--max-tokens", "max_tokens", type=int, help="Default 1024.")
@click.option("--seed", type=int, help="Base seed; each request's seed derives from it (default 0).")
@click.option("--index-offset", "index_offset", type=int, help="First sample_idx (default 0): give each node its own range, then merge.")
@click.option("--stop", multiple=True, help="A stop string (repeatable; none by default).")
@click.option("--template", help="qwen-boxed (default), chat, raw, or a string containing {question}.")
@click.option("--system", help="System prompt for --template chat.")
@click.option("--problems", "ids", multiple=True, help="Only these problem ids (comma-separated).")
@click.option("--source", help="Only problems of this source.")
@click.option("--limit", type=int, help="At most this many problems.")
@click.option("--commit-every", "commit_every", type=int, help="Commit after this many samples.")
@click.option("--no-progress", is_flag=True, help="No progress bars.")
def command(run: str, config_path: str | None, no_progress: bool, ids, only_models, stop, **flags) -> None:
    """Sample chains of thought from models into RUN.

    Running the same command again resumes: samples already stored are
    skipped, so nothing is duplicated.  Ctrl-C keeps every committed batch.
    """
    from ..sampling.config import SampleConfig, apply_overrides, load_config
    from ..sampling.runner import sample_run
    from ._common import open_for_cli

    cfg = load_config(config_path) if config_path else SampleConfig()
    cfg = apply_overrides(cfg, ids=_split(ids), only_models=_split(only_models), stop=list(stop), **flags)
    with open_for_cli(run, create=False) as r:
        try:
            summary = sample_run(r, cfg, progress=not no_progress)
        except KeyboardInterrupt:
            raise Interrupted("interrupted; every finished batch is committed. Run the same command again to resume.") from None
    for name, s in summary.items():
        if s["added"] == 0 and s["tokens"] == 0:
            err_console.print(f"{name}: nothing to do ({s['skipped_problems']} problems already sampled).")
        else:
            rate = f", {s['tokens_per_s']:,} tok/s" if s.get("tokens_per_s") else ""
            err_console.print(f"{name}: {s['added']:,} samples added, {s['tokens']:,} tokens in {s['seconds']:.1f} s{rate}.")
