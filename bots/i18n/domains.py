"""Which translation catalog (gettext domain) each text belongs to, and in which languages.

- a bot (`flows/<bot>/` with a bot.yaml): domain `<bot>`, its bot.yaml and flows;
- a folder of shared flows (`flows/<folder>/` without bot.yaml): domain `<folder>`;
- the catalogs in `knowledge/`: domain `knowledge`;
- the engine's own texts (`bots/engine/texts.py`): domain `bots`.

A bot needs its texts in each of its `locales` except its `source_locale`; it also needs
the shared flows and catalogs it reaches (through `flow:`, `next: other/flow:node` and
`results`) in those languages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import bots.engine.texts
from bots.engine.project import Project
from bots.errors import BotsError
from bots.i18n.extract import FileTexts, read_texts
from bots.loader.load import YAML_SUFFIXES
from bots.loader.yamlsource import YamlError

ENGINE_DOMAIN = "bots"
KNOWLEDGE_DOMAIN = "knowledge"
ENGINE_SOURCE_LOCALE = "en"
FLOWS_METHOD = "bots.i18n.extract:extract_flows"
BUILTIN_METHOD = "bots.i18n.extract:extract_builtin"

DomainKind = Literal["bot", "library", "knowledge", "engine"]


class DomainClash(BotsError, ValueError):
    """Two sources of texts would share one catalog (a bot named `bots` or `knowledge`)."""


@dataclass
class Domain:
    """One gettext domain: `locales/<name>.pot` and `locales/<lang>/LC_MESSAGES/<name>.po`."""

    name: str
    kind: DomainKind
    files: list[Path]
    #: Babel extraction method, by dotted name (works without an installed entry point)
    method: str
    #: locations in the catalogs are relative to this folder
    base: Path
    source_locale: str = ENGINE_SOURCE_LOCALE


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file())


def find_domains(root: Path, project: Project | None = None) -> list[Domain]:
    """The domains of the project at `root`, bots first, the engine's last.

    `project` (if loaded) gives each bot's `source_locale`; shared flows and catalogs are
    taken to be written in the source locale all bots share (English if they differ).
    """
    sources = {b.config.source_locale for b in project.bots.values() if b.config.start} if project else set()
    shared_source = sources.pop() if len(sources) == 1 else ENGINE_SOURCE_LOCALE
    domains: list[Domain] = []
    flows = root / "flows"
    folders = sorted(p for p in flows.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))) if flows.is_dir() else []
    for folder in folders:
        files = _yaml_files(folder)
        config = next((f for f in files if f.stem == "bot"), None)
        if config is not None:
            bot = project.bots.get(folder.name) if project else None
            source = bot.config.source_locale if bot else shared_source
            files = [config] + [f for f in files if f != config]
            domains.append(Domain(folder.name, "bot", files, FLOWS_METHOD, root, source))
        elif files:
            domains.append(Domain(folder.name, "library", files, FLOWS_METHOD, root, shared_source))
    knowledge = root / "knowledge"
    if knowledge.is_dir():
        files = _yaml_files(knowledge)
        if files:
            domains.append(Domain(KNOWLEDGE_DOMAIN, "knowledge", files, FLOWS_METHOD, root, shared_source))
    engine_file = Path(bots.engine.texts.__file__)
    domains.append(Domain(ENGINE_DOMAIN, "engine", [engine_file], BUILTIN_METHOD, engine_file.parents[2]))
    for domain in domains[:-1]:
        if domain.name in (ENGINE_DOMAIN, KNOWLEDGE_DOMAIN) and domain.kind in ("bot", "library"):
            raise DomainClash(
                f"flows/{domain.name}: a bot or flow folder may not be called '{domain.name}': "
                f"that is the name of the translations of the {'engine' if domain.name == ENGINE_DOMAIN else 'catalogs'}"
            )
    return domains


def file_texts(path: Path, display: str | None = None) -> FileTexts | None:
    """The texts of one YAML file on disk, or None when it cannot be read (`bots check` says why)."""
    try:
        return read_texts(path.read_text(encoding="utf-8"), display or str(path))
    except (YamlError, UnicodeDecodeError, OSError):
        return None


def _ordered(languages: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(languages))


def _reached(project: Project, bot_id: str) -> tuple[set[str], set[str]]:
    """Qualified flows and catalogs that a conversation with `bot_id` can reach."""
    return project.reached(bot_id)


def project_bots(project: Project) -> list[str]:
    """The bots (not shared folders) of the project, by id."""
    return [b for b, loaded in project.bots.items() if loaded.config.start and loaded.config.locales]


def bot_languages(project: Project, bot_id: str, domain: Domain) -> list[str]:
    """The languages `bot_id` needs texts of `domain` in: its locales but the domain's source."""
    return [lang for lang in project.bots[bot_id].config.locales if lang != domain.source_locale]


class Usage:
    """Which bots need which file's texts, in which languages."""

    def __init__(self, project: Project, domains: list[Domain]) -> None:
        self.project = project
        self.domains = domains
        self.texts: dict[Path, FileTexts] = {}
        self.domain_of: dict[Path, Domain] = {}
        flow_files: dict[str, Path] = {}
        catalog_files: dict[str, Path] = {}
        canned_files: list[Path] = []
        for domain in domains:
            if domain.kind == "engine":
                continue
            for path in domain.files:
                found = file_texts(path)
                if found is None:
                    continue
                self.texts[path] = found
                self.domain_of[path] = domain
                if found.kind == "flow":
                    flow_files.setdefault(f"{domain.name}/{found.name}", path)
                elif found.kind == "catalog":
                    catalog_files.setdefault(found.name, path)
                elif found.kind == "canned":  # any bot's moderators may send them
                    canned_files.append(path)
        #: file -> bot id -> languages the bot needs that file's texts in
        self.needed: dict[Path, dict[str, list[str]]] = {}
        for bot_id in self.bots():
            flows, catalogs = _reached(project, bot_id)
            reached: list[Path | None] = [flow_files.get(q) for q in flows] + [catalog_files.get(c) for c in catalogs]
            reached += [d.files[0] for d in domains if d.kind == "bot" and d.name == bot_id]
            reached += canned_files
            for place in reached:
                if place is None or place not in self.domain_of:
                    continue
                self.needed.setdefault(place, {})[bot_id] = self.languages_of(bot_id, self.domain_of[place])

    def bots(self) -> list[str]:
        """The bots (not shared folders) of the project, by id."""
        return project_bots(self.project)

    def languages_of(self, bot_id: str, domain: Domain) -> list[str]:
        """The languages `bot_id` needs texts of `domain` in: its locales but the domain's source."""
        return bot_languages(self.project, bot_id, domain)

    def domain_languages(self, domain: Domain) -> list[str]:
        """Every language some bot needs `domain`'s texts in (all bots' when none uses it)."""
        found = [lang for path in domain.files for langs in self.needed.get(path, {}).values() for lang in langs]
        if not found:
            found = [lang for bot_id in self.bots() for lang in self.languages_of(bot_id, domain)]
        return _ordered(found)
