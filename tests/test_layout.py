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


# Methods of a session that read or write rows: outside storage/, only storage functions call them.
SESSION_CALLS = {"add", "add_all", "delete", "exec", "execute", "flush", "get", "merge", "refresh"}
# Attributes set outside storage/ that share a column's name but belong to no row: the batch's
# routes in care routing (a dataclass), a counted number's language (an int subclass), a log
# record's context.
NOT_ROWS = {
    ("bot/domain/care_routing.py", "route"),
    ("bot/reports/words.py", "count"),
    ("bot/core/logging_setup.py", "record"),
}


def column_names() -> set[str]:
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401  (registers every table)

    return {column.name for table in SQLModel.metadata.tables.values() for column in table.c}


def row_changes(path: str, source: str, columns: set[str]) -> list[str]:
    """Where code outside storage/ calls the session's row methods itself, or sets what looks
    like a stored row's column."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "session"
            and node.func.attr in SESSION_CALLS
        ):
            found.append(f"{path}:{node.lineno} session.{node.func.attr}()")
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AugAssign | ast.AnnAssign)
            else []
        )
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id not in ("self", "cls")
                and (path, target.value.id) not in NOT_ROWS
                and target.attr in columns
            ):
                found.append(f"{path}:{node.lineno} {target.value.id}.{target.attr} =")
    return found


def test_rows_change_only_in_storage() -> None:
    """The domain, handlers, jobs and views ask storage functions for every read and change of
    a row: none calls the session's row methods or sets a row's column itself."""
    columns = column_names()
    found = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if not relative.startswith("bot/sandbox/"):
            found += row_changes(relative, path.read_text(encoding="utf-8"), columns)
    assert found == []


def test_a_row_changed_in_the_domain_is_found() -> None:
    source = (
        "async def f(session, ticket, now):\n"
        "    ticket.resolved_at = now\n"
        "    session.add(ticket)\n"
        "    return await session.get(Ticket, 1)\n"
    )
    assert sorted(row_changes("bot/domain/x.py", source, column_names())) == [
        "bot/domain/x.py:2 ticket.resolved_at =",
        "bot/domain/x.py:3 session.add()",
        "bot/domain/x.py:4 session.get()",
    ]


def writer_sessions(path: str, source: str) -> list[str]:
    """Where code opens a writer's unit of work (``….db.session()``)."""
    return [
        f"{path}:{node.lineno}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "session"
        and isinstance(node.func.value, ast.Attribute)
        and node.func.value.attr == "db"
    ]


def test_handlers_read_and_the_domain_writes() -> None:
    """Handlers look things up in read sessions (``db.read()``, which refuse writes); every
    change is a use case of the domain, which opens the writer's unit of work."""
    found = []
    for path in sorted((ROOT / "bot" / "handlers").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        found += writer_sessions(relative, path.read_text(encoding="utf-8"))
    assert found == []


def test_a_handler_writing_is_found() -> None:
    source = (
        "async def on_command(self, update, context):\n"
        "    async with self.services.db.read() as session:\n"
        "        pass\n"
        "    async with self.services.db.session() as session:\n"
        "        pass\n"
    )
    assert writer_sessions("bot/handlers/x.py", source) == ["bot/handlers/x.py:4"]
