"""The CLI's exit codes: user errors, Ctrl-C and explicit exits."""

from __future__ import annotations

import click
import pytest

from pathscope import cli


@pytest.fixture
def extra_command(monkeypatch):
    commands = {}
    original = cli.LazyGroup.get_command

    def get_command(self, ctx, name):
        return commands.get(name) or original(self, ctx, name)

    monkeypatch.setattr(cli.LazyGroup, "get_command", get_command)
    return commands


def test_user_error_is_one_line(tmp_path, capsys):
    assert cli.main(["info", str(tmp_path / "missing.duckdb")]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"error: {tmp_path / 'missing.duckdb'}: no such run file."]


def test_exit_code_of_a_command_is_kept(extra_command):
    @click.command()
    def fails():
        raise click.exceptions.Exit(3)

    extra_command["fails"] = fails
    assert cli.main(["fails"]) == 3


def test_ctrl_c_is_130_with_a_resume_hint(extra_command, capsys):
    @click.command()
    def interrupted():
        raise KeyboardInterrupt

    extra_command["interrupted"] = interrupted
    assert cli.main(["interrupted"]) == 130
    assert "Run the same command again to resume" in capsys.readouterr().err


def test_info_names_the_rl_method_and_json_carries_it(tmp_path, capsys):
    import json

    from pathscope import open_run

    path = tmp_path / "run.duckdb"
    with open_run(path) as run:
        run.set_meta("rl_method", "GRPO [lr 1e-6]")
    assert cli.main(["info", str(path)]) == 0
    assert "RL method: GRPO [lr 1e-6]" in capsys.readouterr().out
    assert cli.main(["info", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rl_method"] == "GRPO [lr 1e-6]"
