"""`pathscope --help` and every subcommand's --help load no model backend."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pathscope.cli import COMMANDS

HEAVY = ["torch", "vllm", "transformers", "sentence_transformers", "matplotlib", "sklearn", "math_verify"]

_PROBE = """
import json, sys
from pathscope.cli import main
try:
    main({args!r})
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--help"]] + [[name, "--help"] for name in sorted(COMMANDS)])
def test_help_imports_no_backend(args):
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(args=args, heavy=HEAVY)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stderr.strip().splitlines()[-1])
    assert loaded == [], f"pathscope {' '.join(args)} imported {loaded}"
    assert "Usage:" in proc.stdout
