"""The settings reference, ``docs/settings.md``, rendered from the settings tree in
``assistant/settings.py``: a table per section with each setting, its environment
variable, its default and the description of its field.

    python -m assistant.settings_reference > docs/settings.md
    python -m assistant.settings_reference --write   # the same, into docs/settings.md
    python -m assistant.settings_reference --check   # exit 1 when docs/settings.md is out of date
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import typing
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from assistant.settings import PROJECT_ROOT, Settings

DOC = PROJECT_ROOT / "docs" / "settings.md"
COMMAND = "python -m assistant.settings_reference --write"

HEADER = f"""\
<!-- Generated from assistant/settings.py by `{COMMAND}`; do not edit by hand. -->

# Settings reference

Every setting of the Dispatch Assistant, section by section, with the text of its field in
`assistant/settings.py`. Settings are read, the first found winning, from the arguments given to
`Settings(...)` (the library API), from environment variables, and from a TOML file: the one named
by `ASSISTANT_CONFIG`, else `config.toml` in the home folder (`ASSISTANT_HOME`) when it exists.

* Environment variables: `ASSISTANT_` and the setting's path in upper case, `__` between the
  parts (`ASSISTANT_LLM__BACKEND=ollama`, `ASSISTANT_RETRIEVAL__FUSION__LEXICAL_BASE=0.2`); lists
  and tables as JSON (`ASSISTANT_SERVER__API_KEYS='["key1", "key2"]'`).
* `config.toml`: one table a section (`[llm]`, `[retrieval.fusion]`), the settings as its keys:

  ```toml
  [llm]
  backend = "ollama"

  [retrieval]
  top_k = 8
  min_top_cosine = {{ it = 0.85, en = 0.81, default = 0.81 }}
  ```

Defaults: `<project>` is the folder holding `assistant/`; "none" means not set. Paths named in the
descriptions are from the project folder.
"""


@dataclass(frozen=True)
class Setting:
    """One leaf setting: where it sits in the tree and what its field says."""

    path: tuple[str, ...]
    field: FieldInfo

    @property
    def name(self) -> str:
        """The setting's key in its section (its key in config.toml)."""
        return self.path[-1]

    @property
    def dotted(self) -> str:
        """The whole path, e.g. ``retrieval.fusion.lexical_base``."""
        return ".".join(self.path)

    @property
    def env_var(self) -> str:
        """The environment variable that sets it, e.g. ``ASSISTANT_RETRIEVAL__FUSION__LEXICAL_BASE``."""
        config = Settings.model_config
        name = config.get("env_prefix", "") + config.get("env_nested_delimiter", "__").join(self.path)
        return name if config.get("case_sensitive") else name.upper()

    @property
    def description(self) -> str:
        """The field's description on one line, empty when it has none."""
        return " ".join((self.field.description or "").split())


@dataclass(frozen=True)
class Section:
    """A group of settings: the root ones, or those of one settings model (``llm``, ``retrieval.fusion``)."""

    path: tuple[str, ...]
    doc: str
    settings: tuple[Setting, ...]

    @property
    def title(self) -> str:
        """``[llm]``-style TOML table name, or ``General`` for the root settings."""
        return f"[{'.'.join(self.path)}]" if self.path else "General"


def _is_section(field: FieldInfo) -> bool:
    return isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)


def sections(model: type[BaseModel] = Settings, path: tuple[str, ...] = ()) -> list[Section]:
    """The sections of a settings model, in the order of its fields: its own leaf settings first,
    then each nested settings model (recursively)."""
    leaves = tuple(Setting(path + (name,), field) for name, field in model.model_fields.items()
                   if not _is_section(field))
    doc = " ".join((model.__doc__ or "").split()) if path else ""
    found = [Section(path, doc, leaves)] if leaves else []
    for name, field in model.model_fields.items():
        if _is_section(field):
            found.extend(sections(field.annotation, path + (name,)))
    return found


def undescribed(model: type[BaseModel] = Settings) -> list[str]:
    """Dotted paths of the settings of ``model`` whose field has no description."""
    return [s.dotted for section in sections(model) for s in section.settings if not s.description]


def _choices(annotation: object) -> list[object]:
    """The values a ``Literal`` type (or an optional one) allows; empty for other types."""
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    return [value for arg in typing.get_args(annotation) for value in _choices(arg)]


def _path_text(path: Path) -> str:
    """A default path as it reads on any machine: under the project, the cache folder or home."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    for root, label in ((PROJECT_ROOT, "<project>"), (cache, "~/.cache"), (Path.home(), "~")):
        if path.is_relative_to(root):
            return f"{label}/{path.relative_to(root).as_posix()}"
    return path.as_posix() if path.is_absolute() else f"./{path.as_posix()}"


def default_text(setting: Setting) -> str:
    """The default of a setting as markdown: a value as one writes it in config.toml, or "none"."""
    field = setting.field
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "none"
    if isinstance(value, Path):
        text = _path_text(value)
        if text.startswith("~/.cache/"):
            return f"`{text}` (`$XDG_CACHE_HOME` when set)"
        return f"`{text}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    if isinstance(value, date):
        return f"`{value.isoformat()}`"
    if isinstance(value, (list, dict)):
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """The whole of docs/settings.md."""
    lines = [HEADER]
    for section in sections():
        lines += [f"## {section.title}", ""]
        if section.doc:
            lines += [section.doc, ""]
        lines += ["| setting | environment variable | default | description |", "|---|---|---|---|"]
        for setting in section.settings:
            description = setting.description
            choices = _choices(setting.field.annotation)
            if choices:
                allowed = "One of " + ", ".join(f"`{c}`" for c in choices) + "."
                description = f"{description} {allowed}" if description else allowed
            lines.append(f"| `{setting.name}` | `{setting.env_var}` | {_cell(default_text(setting))} "
                         f"| {_cell(description)} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the reference, write it into docs/settings.md (``--write``), or check that file (``--check``)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help=f"write {DOC.relative_to(PROJECT_ROOT)}")
    mode.add_argument("--check", action="store_true",
                      help=f"exit 1 when {DOC.relative_to(PROJECT_ROOT)} is not what this renders")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(text, encoding="utf-8")
        return 0
    if args.check:
        current = DOC.read_text(encoding="utf-8") if DOC.is_file() else None
        if current != text:
            print(f"{DOC.relative_to(PROJECT_ROOT)} is out of date; regenerate it with `{COMMAND}`",
                  file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
