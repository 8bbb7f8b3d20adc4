"""The render views of the site's own pages (catalog, vocabulary, command line): frozen
data, no logic. A loss's reference page uses the loss's own view, ``codegen.views.LossView``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    title: str
    task: str
    summary: str
    parameters: str


@dataclass(frozen=True)
class TaskGroup:
    task: str
    heading: str
    entries: tuple[CatalogEntry, ...]


@dataclass(frozen=True)
class PeerRow:
    call: str  # the library's class or function, dotted
    name: str  # the catalog loss that reproduces it
    title: str


@dataclass(frozen=True)
class PeerLibrary:
    library: str  # the name users know it by
    rows: tuple[PeerRow, ...]


@dataclass(frozen=True)
class CatalogView:
    groups: tuple[TaskGroup, ...]
    count: int
    peers: tuple[PeerLibrary, ...] = ()


@dataclass(frozen=True)
class FunctionRow:
    signature: str
    doc: str
    latex: str


@dataclass(frozen=True)
class OptionRow:
    flags: str
    help: str


@dataclass(frozen=True)
class CommandView:
    name: str
    usage: str
    help: str
    options: tuple[OptionRow, ...]


@dataclass(frozen=True)
class ToolView:
    """The formula vocabulary and the CLI, for the generated reference pages."""

    functions: tuple[FunctionRow, ...]
    commands: tuple[CommandView, ...]


@dataclass(frozen=True)
class GalleryEntry:
    name: str
    title: str
    findings: str  # what the plot does beyond drawing the lines, joined for the page


@dataclass(frozen=True)
class GalleryGroup:
    heading: str
    entries: tuple[GalleryEntry, ...]


@dataclass(frozen=True)
class GalleryView:
    """Every loss's plots on one page (the contact sheet), with how often each finding
    occurs; empty ``groups`` when the build drew no plots."""

    groups: tuple[GalleryGroup, ...]
    counts: tuple[tuple[str, int], ...]  # (finding, number of losses), most frequent first
    count: int
