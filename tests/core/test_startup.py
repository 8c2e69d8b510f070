"""Starting without required configuration is a one-line error, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_missing_production_secret_is_one_clear_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBLOG_")}
    env["JOBLOG_DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.sqlite'}"
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "JOBLOG_SECRET_KEY must be set in production" in lines[0]
    assert "Traceback" not in result.stderr
