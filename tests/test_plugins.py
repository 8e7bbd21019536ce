"""Third-party reader plugins: a broken one (its import, its class or its probe fails, or it misses an attribute
of the reader contract) is listed by `nwbconvert formats` with the reason and skipped everywhere else.

The plugins are a real distribution (a module and a .dist-info with entry_points.txt) on PYTHONPATH, seen by
importlib.metadata in a real `nwbconvert` subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli_runner import ENV
from conftest import COMPLETE_METADATA, realdata

PLUGIN = """
from pathlib import Path

from nwbconvert.readers.base import Match, ReaderBase


class Good(ReaderBase):  # the documented way: ReaderBase gives every optional attribute its default
    name = "acme-good"
    description = "ACME recording"
    suffixes = (".acme",)

    def probe(self, path):
        return Match.NO

    def read(self, path, options):
        raise NotImplementedError


class InitFails(Good):
    name = "acme-init"

    def __init__(self):
        raise RuntimeError("no licence server")


class Partial:  # declares only part of the contract, without ReaderBase
    name = "acme-partial"
    description = "partial"
    suffixes = (".partial",)

    def probe(self, path):
        return Match.NO

    def read(self, path, options):
        raise NotImplementedError


class ProbeFails(Good):
    name = "acme-probe"

    def probe(self, path):
        raise RuntimeError("the probe is broken")


class FussyProbe(Good):  # answers an empty folder, fails on an Intan file
    name = "acme-fussy"

    def probe(self, path):
        if Path(path).suffix == ".rhd":
            raise ValueError("cannot look at .rhd files")
        return Match.NO
"""

ENTRY_POINTS = """[nwbconvert.readers]
acme-good = acme_plugin:Good
acme-import = acme_needs_missing:Reader
acme-init = acme_plugin:InitFails
acme-partial = acme_plugin:Partial
acme-probe = acme_plugin:ProbeFails
acme-fussy = acme_plugin:FussyProbe
"""

BROKEN = ("acme-import", "acme-init", "acme-partial", "acme-probe")
SET = [f"--set={kv}" for kv in COMPLETE_METADATA]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the acme-readers 1.0 distribution, as pip would install it."""
    root = tmp_path_factory.mktemp("site")
    (root / "acme_plugin.py").write_text(PLUGIN)
    (root / "acme_needs_missing.py").write_text("import acme_dependency_that_is_not_installed\n")
    info = root / "acme_readers-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-readers\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return root


def run(site: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(p for p in (str(site), ENV.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [sys.executable, "-m", "nwbconvert", *map(str, args)],
        capture_output=True,
        text=True,
        env=ENV | {"PYTHONPATH": path},
        timeout=600,
    )


def test_formats_json_reports_each_broken_plugin_in_plain_words(site: Path) -> None:
    from importlib.metadata import entry_points

    result = run(site, "formats", "--json")
    assert result.returncode == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)["result"]}
    assert {ep.name for ep in entry_points(group="nwbconvert.readers")} <= set(rows)  # the built-ins are all there
    for name in BROKEN:
        assert rows[name]["available"] is False, name
        assert "acme-readers 1.0" in rows[name]["broken"] and "skipped" in rows[name]["broken"], name
    assert (
        "could not be imported (ModuleNotFoundError: No module named 'acme_dependency_that_is_not_installed')"
        in (rows["acme-import"]["broken"])
    )
    assert "could not be created (RuntimeError: no licence server)" in rows["acme-init"]["broken"]
    assert (
        "does not declare requires, verified, input_kind, manufacturer, source_options, note"
        in (rows["acme-partial"]["broken"])
    )
    assert "ReaderBase" in rows["acme-partial"]["broken"]
    assert "failed in probe() on an empty folder (RuntimeError: the probe is broken)" in rows["acme-probe"]["broken"]
    good = rows["acme-good"]
    assert good["broken"] == "" and good["available"] is True
    assert (good["verified"], good["input"], good["requires"], good["note"]) == ("unverified", "file", [], "")


def test_formats_table_lists_broken_plugins_as_skipped(site: Path) -> None:
    result = run(site, "formats")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = {line.split()[1]: line for line in result.stdout.splitlines() if line.startswith("│ acme-")}
    for name in BROKEN:
        assert "broken, skipped" in lines[name], name
    assert "ready" in lines["acme-good"] and "intan" in result.stdout
    assert "4 broken plugin(s) skipped" in result.stderr


def test_detection_and_format_skip_broken_plugins(site: Path, tmp_path: Path) -> None:
    source = realdata("intan/IntanToNWB/example_intan_file.rhd")  # the fussy plugin's probe raises on it
    detected = run(site, "convert", source, "-o", tmp_path / "detected.nwb", "--stub", "0.1", *SET)
    assert detected.returncode == 0, detected.stderr
    chosen = run(site, "convert", source, "-o", tmp_path / "chosen.nwb", "-f", "intan", "--stub", "0.1", *SET)
    assert chosen.returncode == 0, chosen.stderr
    assert (tmp_path / "detected.nwb").is_file() and (tmp_path / "chosen.nwb").is_file()
    refused = run(site, "convert", source, "-o", tmp_path / "x.nwb", "-f", "acme-probe", *SET)
    assert refused.returncode == 2 and "acme-probe" in refused.stderr and "the probe is broken" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "x.nwb").exists()


def test_an_unknown_file_names_the_skipped_plugins(site: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a recording\n")
    result = run(site, "convert", notes, "-o", tmp_path / "x.nwb", *SET)
    assert result.returncode == 3 and "no reader recognises" in result.stderr
    assert "acme-import" in result.stderr and "Traceback" not in result.stderr
