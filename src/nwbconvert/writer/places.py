"""Which electrode group each channel is written in (no pynwb or hdmf: checked before they are imported)."""

from __future__ import annotations

from nwbconvert.errors import MetadataError
from nwbconvert.metadata.model import MetadataLayer
from nwbconvert.model import Channel, Recording, Session


def electrode_group_name(rec: Recording, ch: Channel) -> str:
    """The ElectrodeGroup a channel is written in: its group ('imec0', 'ProbeB'), else named after its series."""
    return ch.group if ch.group != "default" else rec.name.removeprefix("ElectricalSeries") or rec.name


def electrode_group_names(session: Session) -> list[str]:
    """The electrode groups the session's electrical series will be written in, in order."""
    names = (electrode_group_name(r, ch) for r in session.recordings if r.is_electrical for ch in r.channels)
    return list(dict.fromkeys(names))


def check_electrode_groups(session: Session, metadata: MetadataLayer) -> None:
    """Every `electrode_groups.<name>` the metadata describes must be a group of this recording."""
    unknown = [name for name in metadata.electrode_groups if name not in electrode_group_names(session)]
    if unknown:
        have = ", ".join(electrode_group_names(session)) or "none (no extracellular voltage stream)"
        raise MetadataError(
            f"electrode_groups: {', '.join(unknown)} is not an electrode group of {session.source}. Its groups are: "
            f"{have}. Use one of these names, e.g. --set electrode_groups.<group>.location=CA1, or remove the entry."
        )
