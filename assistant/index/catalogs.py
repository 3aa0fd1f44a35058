"""Opening the catalog named by ``index.catalog``: SQLite under the home
folder (one machine) or a PostgreSQL database (several machines)."""

from __future__ import annotations

from pathlib import Path

from assistant.index.catalog import Catalog
from assistant.settings import IndexSettings


def open_catalog(index: IndexSettings, home: Path):
    """A ``Catalog`` (SQLite) or a ``PostgresCatalog``, with the same methods."""
    if index.catalog == "sqlite":
        return Catalog(home / "catalog.sqlite")
    if index.catalog.startswith(("postgresql://", "postgres://")):
        from assistant.index.catalog_postgres import PostgresCatalog

        return PostgresCatalog(index.catalog, lexical=index.postgres_lexical)
    raise ValueError(f"ASSISTANT_INDEX__CATALOG must be 'sqlite' or a postgresql:// URL, not {index.catalog!r}")
