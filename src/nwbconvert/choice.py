"""`Choice`: an enumerated option whose members are its strings ("gzip"), printed and hashed as them."""

from __future__ import annotations

from enum import Enum


class Choice(str, Enum):
    """A str Enum (3.10 has no StrEnum) that prints as its value: f"{Compression.GZIP}" == "gzip"."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)
