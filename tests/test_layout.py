"""The rooms' import arrows, as the import-linter contracts in pyproject.toml draw them."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def copy_of_the_code(destination: Path) -> Path:
    for package in ("bot", "nlp", "storage"):
        shutil.copytree(
            ROOT / package, destination / package, ignore=shutil.ignore_patterns("model", "data")
        )
    shutil.copy(ROOT / "pyproject.toml", destination / "pyproject.toml")
    return destination


def test_the_tree_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 5 kept, 0 broken." in result.stdout


def test_an_arrow_pointing_up_breaks_the_contract(tmp_path: Path) -> None:
    tree = copy_of_the_code(tmp_path)
    priority = tree / "bot" / "domain" / "priority.py"
    priority.write_text(priority.read_text() + "\nfrom bot.handlers import customer  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "bot.domain is not allowed to import bot.handlers" in result.stdout
    assert "bot.domain.priority -> bot.handlers.customer" in result.stdout


def test_storage_importing_the_bot_breaks_the_contract(tmp_path: Path) -> None:
    tree = copy_of_the_code(tmp_path)
    models = tree / "storage" / "db.py"
    models.write_text(models.read_text() + "\nimport bot.core.settings  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "storage.db -> bot.core.settings" in result.stdout


def test_no_test_or_benchmark_imports_a_test_module() -> None:
    """Tests and benchmarks share helpers through tests/support only, never by importing one
    another's test modules."""
    borrowed = []
    for path in sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            borrowed += [
                f"{path.relative_to(ROOT)} imports {name}"
                for name in names
                if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")
            ]
    assert borrowed == []
