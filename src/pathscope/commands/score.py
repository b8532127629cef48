"""``pathscope score RUN --scorer MODEL``: perplexity of stored responses."""

from __future__ import annotations

import click

from ..errors import Interrupted
from ._common import err_console, run_path_argument


@click.command(name="score")
@run_path_argument
@click.option("--scorer", required=True, help="A model of the run (by name) or a model folder.")
@click.option("--name", help="Name to register a scorer folder under (default: the folder name).")
@click.option("--models", "models", multiple=True, help="Only these models' samples (comma-separated; default all).")
@click.option("--backend", type=click.Choice(["transformers", "vllm"]), default="transformers", show_default=True)
@click.option("--template", help="Prompt template to score with (default: the one each model was sampled with).")
@click.option("--dtype", type=click.Choice(["auto", "float32", "float16", "bfloat16"]), default="auto", show_default=True)
@click.option("--device", default="auto", show_default=True, help="transformers device.")
@click.option("--tp", "tensor_parallel_size", type=int, default=1, show_default=True, help="vLLM tensor_parallel_size.")
@click.option("--batch-tokens", type=int, default=4096, show_default=True, help="transformers: tokens per forward batch.")
@click.option("--no-progress", is_flag=True)
def command(run: str, scorer: str, name, models, backend, template, dtype, device, tensor_parallel_size, batch_tokens, no_progress) -> None:
    """Teacher-forced perplexity of every stored response in RUN under a
    scorer model: exp(-mean log P(y_t | x, y_<t)) over response tokens.
    Resumable: samples already scored by this scorer are skipped."""
    from ..sampling.scoring import score_run
    from ._common import open_for_cli

    if template is not None:
        from ..sampling.config import PromptSpec, validate_prompt

        validate_prompt(PromptSpec(template), None, "--template")
    names = [m for item in models for m in item.split(",") if m]
    with open_for_cli(run, create=False) as r:
        try:
            summary = score_run(
                r, scorer, names or None, backend=backend, name=name, template=template, dtype=dtype, device=device,
                tensor_parallel_size=tensor_parallel_size, batch_tokens=batch_tokens, progress=not no_progress,
            )
        except KeyboardInterrupt:
            raise Interrupted("interrupted; scores committed so far are kept. Run the same command again to resume.") from None
    for model, s in summary.items():
        err_console.print(f"{model}: {s['scored']:,} samples scored" + (f" in {s['seconds']:.1f} s." if s["scored"] else "."))
