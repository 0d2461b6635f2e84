"""The one place a configured device name becomes a torch device."""
from __future__ import annotations

from .errors import ConfigError


def resolve_device(name: str | None, key: str = "device"):
    """``auto`` (or empty) -> CUDA when present, else CPU; ``cpu`` / ``cuda[:n]`` as given.

    Asking for CUDA on a machine without it is a ConfigError naming the config ``key``, at
    the start of the job rather than deep inside the first tensor move."""
    import torch  # lazy: OpenCV-only flow jobs import this module's callers without torch work

    if name in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(str(name))
    except RuntimeError as exc:
        raise ConfigError(f"{key} is {name!r}: not a device name ({exc})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"{key} is {name!r} but no CUDA device is available (use 'auto' or 'cpu')")
    return dev
