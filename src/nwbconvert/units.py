"""Physical units as sources spell them, and their factors to SI."""

from __future__ import annotations

VOLT_FACTORS: dict[str, float] = {
    "V": 1.0,
    "mV": 1e-3,
    "uV": 1e-6,
    "µV": 1e-6,
    "μV": 1e-6,
    "nV": 1e-9,
}


def volt_factor(unit: str) -> float | None:
    """Factor from `unit` to volts, or None when `unit` is not a voltage."""
    return VOLT_FACTORS.get(unit.strip())


def is_voltage(unit: str) -> bool:
    return volt_factor(unit) is not None


AMPERE_FACTORS: dict[str, float] = {
    "A": 1.0,
    "mA": 1e-3,
    "uA": 1e-6,
    "µA": 1e-6,
    "μA": 1e-6,
    "nA": 1e-9,
    "pA": 1e-12,
    "fA": 1e-15,
}


def ampere_factor(unit: str) -> float | None:
    """Factor from `unit` to amperes, or None when `unit` is not a current."""
    return AMPERE_FACTORS.get(unit.strip())


def is_current(unit: str) -> bool:
    return ampere_factor(unit) is not None


def camel(text: str) -> str:
    """'imec0.ap' -> 'Imec0Ap'; characters NWB names cannot hold are dropped."""
    parts = "".join(c if c.isalnum() else " " for c in text).split()
    return "".join(p[:1].upper() + p[1:] for p in parts)


def label(value: object) -> str:
    """A source's text field as NWB can store it: fixed-width C strings end at their first NUL byte (what follows
    is padding or garbage, and HDF5 strings cannot hold a NUL)."""
    text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return text.split("\0", 1)[0]
