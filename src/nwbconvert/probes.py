"""Probe geometry: the contact behind each channel (from probeinterface objects) and `--probe FILE`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nwbconvert.errors import UsageError
from nwbconvert.model import Channel, Recording, Session
from nwbconvert.readers.plain import explain

HOW_TO_WRITE = (
    "Write one with probeinterface, e.g. `probeinterface.write_probeinterface('probe.json', probegroup)` "
    "after `probe.set_device_channel_indices(...)`."
)


@dataclass(frozen=True)
class Site:
    """Where one channel records: the probe's contact id, its position (um) and its shank."""

    contact_id: str
    position_um: tuple[float, float]
    shank: str | None


def probe_sites(probe: Any) -> list[tuple[int, Site]]:
    """(device channel index, site) for each wired contact of a probeinterface `Probe` (-1 = not wired)."""
    n = probe.get_contact_count()
    wiring = probe.device_channel_indices if probe.device_channel_indices is not None else [-1] * n
    ids = probe.contact_ids if probe.contact_ids is not None else [""] * n
    shanks = probe.shank_ids if probe.shank_ids is not None else [""] * n
    out = []
    for k, (dci, contact, pos, shank) in enumerate(zip(wiring, ids, probe.contact_positions, shanks)):
        if int(dci) >= 0:
            site = Site(str(contact) or f"c{k}", (float(pos[0]), float(pos[1])), str(shank) or None)
            out.append((int(dci), site))
    return out


def with_site(ch: Channel, site: Site, group: str | None = None) -> Channel:
    return replace(
        ch, contact_id=site.contact_id, position_um=site.position_um, shank=site.shank, group=group or ch.group
    )


def read_probe_file(path: Path) -> list[Any]:
    """The probes of a probeinterface JSON (a Probe or a ProbeGroup) or a .prb file; UsageError otherwise."""
    if not path.is_file():
        raise UsageError(f"--probe {path}: no such file. Give a probeinterface .json or a .prb file. {HOW_TO_WRITE}")
    if path.suffix.lower() not in (".json", ".prb"):
        raise UsageError(
            f"--probe {path}: expected a probeinterface .json or a .prb file, not '{path.suffix}'. {HOW_TO_WRITE}"
        )
    import probeinterface

    try:
        group = (
            probeinterface.read_prb(path) if path.suffix.lower() == ".prb" else probeinterface.read_probeinterface(path)
        )
    except Exception as exc:
        raise UsageError(
            f"--probe {path}: could not be read as a probeinterface {path.suffix} file ({explain(exc, path)}). "
            f"Check that the file is complete and was written by probeinterface. {HOW_TO_WRITE}"
        ) from exc
    probes = list(group.probes)
    if not probes:
        raise UsageError(f"--probe {path}: the file holds no probe. {HOW_TO_WRITE}")
    unwired = [i for i, p in enumerate(probes) if p.device_channel_indices is None]
    if unwired:
        raise UsageError(
            f"--probe {path}: probe {unwired[0]} has no device channel indices, so its contacts cannot be matched "
            f"to recorded channels. Set them with probe.set_device_channel_indices([...]) and write it again."
        )
    return probes


def apply_probe(session: Session, probe_file: Path) -> Session:
    """Override the contact id, position, shank and group of the electrode channels with a probe file.

    Electrical recordings are grouped into sources by the probe they come from (their channels' group,
    e.g. `imec0` for SpikeGLX AP and LF, `ProbeB` for Open Ephys; else their stream), in session order.
    probeinterface counts device channel indices across all probes of a file, so the sources' channels
    are numbered the same way: the first source's channels in stream order (the NWB series' columns),
    then the next source's, and so on. With one source, index k is its k-th channel; with two 384-channel
    Neuropixels, indices 0-383 are the first probe's and 384-767 the second's. Every recording of a
    source (AP and LF bands, blocks) gets the same contacts and must have one channel per index; the
    wired contacts must cover every channel of every source exactly once, else a UsageError.
    A source on which one probe lies keeps its group name (so `electrode_groups.<name>` still applies);
    a source shared by several probes (e.g. tetrodes on one amplifier) gets one group per probe, named
    after the probe's `name` annotation, else `probe<i>`.
    """
    probes = read_probe_file(probe_file)
    sources: dict[str, list[Recording]] = {}
    for rec in session.recordings:
        if rec.is_electrical:
            sources.setdefault(_source(rec), []).append(rec)
    if not sources:
        raise UsageError(
            f"--probe {probe_file}: {session.source} has no extracellular voltage stream to place on a probe. "
            "Leave out --probe for this recording."
        )
    offsets: dict[str, int] = {}
    total = 0
    for name, recs in sources.items():
        offsets[name] = total
        total += len(recs[0].channels)
    wired = _wired(probes)
    layout = ", ".join(
        f"{name}: {offsets[name]}-{offsets[name] + len(recs[0].channels) - 1}" for name, recs in sources.items()
    )
    if sorted(wired) != list(range(total)):
        outside = [i for i in wired if i >= total]
        extra = f" (indices up to {max(wired)})" if outside else ""
        raise UsageError(
            f"--probe {probe_file}: wires {len(wired)} contact(s){extra} but {session.source} has {total} electrode "
            f"channel(s), numbered by source ({layout}). Each channel needs exactly one contact: fix the probe's "
            "device_channel_indices, or select the streams the file describes with --stream."
        )
    replaced: dict[int, Recording] = {}
    for name, recs in sources.items():
        n = len(recs[0].channels)
        mine = [wired[offsets[name] + k] for k in range(n)]
        single = len({probe for _, probe in mine}) == 1
        for rec in recs:
            if len(rec.channels) != n:
                raise UsageError(
                    f"--probe {probe_file}: {rec.name} has {len(rec.channels)} channels but {recs[0].name} of the same "
                    f"probe ({name}) has {n}; convert them separately with --stream."
                )
            channels = tuple(
                with_site(ch, site, None if single else _probe_name(probes, probe))
                for ch, (site, probe) in zip(rec.channels, mine)
            )
            replaced[id(rec)] = replace(rec, channels=channels)
    return replace(session, recordings=tuple(replaced.get(id(r), r) for r in session.recordings))


def _source(rec: Recording) -> str:
    """The probe a recording's channels belong to: their group ('imec0', 'ProbeB'), else the stream."""
    group = rec.channels[0].group if rec.channels else "default"
    return group if group != "default" else rec.stream_id


def _wired(probes: list[Any]) -> dict[int, tuple[Site, int]]:
    """Device channel index -> (site, index of its probe), across all probes of the file."""
    wired: dict[int, tuple[Site, int]] = {}
    for i, probe in enumerate(probes):
        for dci, site in probe_sites(probe):
            wired[dci] = (site, i)  # probeinterface refuses files wiring one index twice
    return wired


def _probe_name(probes: list[Any], i: int) -> str:
    return str(probes[i].annotations.get("name") or f"probe{i}")
