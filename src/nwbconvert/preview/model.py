"""Typed pieces of a preview report: tables, figures (PNG bytes), sections, the report."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Figure:
    key: str  # file-safe name: the PNG written by --png is <key>.png
    title: str
    png: bytes
    caption: str = ""


@dataclass(frozen=True)
class Section:
    id: str  # the HTML id (sections the tests look for: session, subject, devices, provenance, validation, ...)
    title: str
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()
    notes: tuple[str, ...] = ()  # what could not be drawn, in plain words


@dataclass(frozen=True)
class Report:
    file: str
    title: str
    sections: tuple[Section, ...]
    seconds: float = 0.0

    @property
    def figures(self) -> tuple[Figure, ...]:
        return tuple(f for s in self.sections for f in s.figures)

    def section(self, id: str) -> Section | None:
        return next((s for s in self.sections if s.id == id), None)
