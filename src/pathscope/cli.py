"""The ``pathscope`` command.

Thin by design: each subcommand lives in ``pathscope/commands/<name>.py`` and
is imported only when it is invoked (or asked for ``--help``), so that
``pathscope --help`` stays fast and loads no model backend.  Errors a user can
cause end in one sentence on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import importlib
import sys

import click

from .errors import PathscopeError

#: subcommand name -> (module under pathscope.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "info": ("info", "Summarise a run: models, problems, samples, stages."),
    "problems": ("problems", "Add problem sets (JSONL, Parquet, CSV) to a run."),
    "import": ("import_cmd", "Import existing generations into a run."),
    "sample": ("sample", "Sample chains of thought from models into a run."),
    "models": ("models", "Prepare local model folders (e.g. SmolLM2-135M)."),
    "score": ("score", "Perplexity of stored responses under a scorer model."),
    "merge": ("merge", "Merge run shards sampled on different machines."),
    "verify": ("verify", "Grade every unverified sample (math, code, choice)."),
    "report": ("report", "pass@k, crossover, coverage, histograms; --plots writes figures."),
    "analyze": ("analyze", "Embed CoTs, cluster strategies, build the step tree, gather evidence."),
    "export": ("export", "Export clusters, samples, tree or annotations."),
    "open": ("open_cmd", "Open a run in the terminal UI."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module_name, _ = COMMANDS[name]
        try:
            module = importlib.import_module(f"pathscope.commands.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("pathscope.commands"):
                return _not_yet(name)
            raise
        return module.command

    def format_commands(self, ctx, formatter):
        # List commands from the table, without importing any of them.
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _not_yet(name: str) -> click.Command:
    @click.command(name=name, help=COMMANDS[name][1] + " (not available in this build)")
    def _cmd():
        raise PathscopeError(f"'pathscope {name}' is not available in this build.")

    return _cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pathscope")
def cli():
    """pathscope: does RL add reasoning paths, or re-weight the base model's?

    One study lives in one DuckDB file (a run): sample or import generations,
    verify them, measure pass@k and coverage, analyse strategies, and open the
    run in the terminal UI.
    """


def main(argv: list[str] | None = None) -> int:
    try:
        rv = cli.main(args=argv, prog_name="pathscope", standalone_mode=False)
    except PathscopeError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        # click turns Ctrl-C into Abort when it is not in standalone mode.
        click.echo("interrupted; everything committed so far is kept. Run the same command again to resume.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    # Without standalone mode, click returns a command's Exit code instead of raising it.
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
