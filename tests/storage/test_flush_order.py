"""The tables live in modules by area; a flush still writes their rows in the order it did when
they were all in one module."""

from __future__ import annotations

from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table)


def test_each_table_flushes_where_it_did_beside_the_tables_it_refers_to() -> None:
    """SQLAlchemy orders the rows of tables with no relationship() between them by their
    classes' ``module.Class`` names; in one module that was the class names alone."""
    mappers = list(SQLModel._sa_registry.mappers)
    by_table = {mapper.local_table.name: mapper for mapper in mappers}
    moved = []
    for child in mappers:
        for key in child.local_table.foreign_keys:
            parent = by_table[key.column.table.name]
            if parent is child:
                continue
            now = child._sort_key < parent._sort_key
            before = child.class_.__name__ < parent.class_.__name__
            if now != before:
                moved.append(f"{child.class_.__name__} -> {parent.class_.__name__}")
    assert moved == []
