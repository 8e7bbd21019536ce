"""Probe geometry: the contact behind each channel (from probeinterface objects) and `--probe FILE`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nwbconvert.errors import UsageError
from nwbconvert.model import Channel, Recording, Session

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
            f"--probe {path}: could not be read as a probeinterface {path.suffix} file ({type(exc).__name__}: {exc}). "
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


def _slot(rec: Recording) -> str:
    """The probe a recording's channels belong to: their group ('imec0', 'ProbeB'), else the stream."""
    group = rec.channels[0].group if rec.channels else "default"
    return group if group != "default" else rec.stream_id


def apply_probe(session: Session, probe_file: Path) -> Session:
    """Override the contact id, position, shank and group of the electrode channels with a probe file.

    A contact's device channel index is the position of its channel in the recording (the order neo
    lists the stream's channels, which is the order of the NWB series' columns). Electrical recordings
    are grouped by the probe they come from (the channels' group, e.g. `imec0` for SpikeGLX AP and LF,
    `ProbeB` for Open Ephys; else the stream), in session order. Then:
    - one such probe source: the whole file applies to it, device channel indices taken across all of
      the file's probes (probeinterface's convention for a ProbeGroup); each probe becomes its own
      electrode group (its `name` annotation, else `probe<i>`) when the file has several;
    - several sources and as many probes in the file: the i-th probe applies to the i-th source, with
      its indices counted inside that source, and the source's group name is kept;
    - otherwise, or when a recording's channel count differs from the wired contacts: a UsageError.
    Each recording of a source (AP and LF bands, blocks) must have exactly one wired contact per channel.
    """
    probes = read_probe_file(probe_file)
    slots: dict[str, list[Recording]] = {}
    for rec in session.recordings:
        if rec.is_electrical:
            slots.setdefault(_slot(rec), []).append(rec)
    if not slots:
        raise UsageError(
            f"--probe {probe_file}: {session.source} has no extracellular voltage stream to place on a probe. "
            "Leave out --probe for this recording."
        )
    if len(slots) == 1:
        (slot,) = slots
        several = len(probes) > 1
        plans = {
            slot: [(p, (p.annotations.get("name") or f"probe{i}") if several else None) for i, p in enumerate(probes)]
        }
    elif len(probes) == len(slots):
        plans = {slot: [(probe, None)] for slot, probe in zip(slots, probes)}
    else:
        sources = ", ".join(f"{s} ({len(recs[0].channels)} channels)" for s, recs in slots.items())
        raise UsageError(
            f"--probe {probe_file}: holds {len(probes)} probe(s) but {session.source} has {len(slots)} electrode "
            f"sources ({sources}). Give a file with one probe per source, in this order, or one probe for one "
            "source selected with --stream."
        )
    replaced: dict[int, Recording] = {}
    for slot, plan in plans.items():
        for rec in slots[slot]:
            replaced[id(rec)] = _placed(rec, plan, probe_file)
    return replace(session, recordings=tuple(replaced.get(id(r), r) for r in session.recordings))


def _placed(rec: Recording, plan: Sequence[tuple[Any, str | None]], probe_file: Path) -> Recording:
    """`rec` with each channel on the contact wired to its position."""
    by_index: dict[int, tuple[Site, str | None]] = {}
    for probe, group in plan:
        for dci, site in probe_sites(probe):
            if dci in by_index:
                raise UsageError(
                    f"--probe {probe_file}: device channel index {dci} is wired to two contacts. Each recorded "
                    "channel can hold one contact; fix the probe's device_channel_indices."
                )
            by_index[dci] = (site, group)
    n = len(rec.channels)
    outside = sorted(i for i in by_index if i >= n)
    if len(by_index) != n or outside:
        detail = f" (indices up to {max(by_index)})" if by_index else ""
        raise UsageError(
            f"--probe {probe_file}: wires {len(by_index)} contact(s){detail} but {rec.name} has {n} channels. "
            "The probe's device_channel_indices must give each recorded channel (0 to "
            f"{n - 1}, in stream order) exactly one contact; select the matching stream with --stream or fix the file."
        )
    channels = tuple(with_site(ch, *by_index[i]) for i, ch in enumerate(rec.channels))
    return replace(rec, channels=channels)
