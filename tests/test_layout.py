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


def refused(tmp_path: Path, module: str, line: str) -> str:
    """What lint-imports says of a copy of the code where `module` (a path below the root)
    gains `line`; it must fail."""
    tree = copy_of_the_code(tmp_path)
    path = tree / module
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    return result.stdout


def test_an_arrow_pointing_up_breaks_the_contract(tmp_path: Path) -> None:
    said = refused(tmp_path, "bot/domain/priority.py", "from bot.handlers import customer")
    assert "bot.domain is not allowed to import bot.handlers" in said
    assert "bot.domain.priority -> bot.handlers.customer" in said


def test_storage_importing_the_bot_breaks_the_contract(tmp_path: Path) -> None:
    said = refused(tmp_path, "storage/db.py", "import bot.core.settings")
    assert "storage.db -> bot.core.settings" in said


def test_sql_in_the_staff_chat_breaks_the_contract(tmp_path: Path) -> None:
    """The rooms that keep their queries in storage/ may not import SQLAlchemy themselves."""
    said = refused(tmp_path, "bot/staff_chat/cards.py", "from sqlmodel import select")
    assert "bot.staff_chat is not allowed to import sqlmodel" in said
    assert "bot.staff_chat.cards -> sqlmodel" in said


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
