"""What one device's tcpdump has captured: its pcap stream, the frames inside the capture's window,
and tcpdump's counts once stopped (the window is explained in :mod:`labkit.capture.session`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .decode import Frame
from .pcap import PcapStream


@dataclass
class DeviceCapture:
    """What one device's tcpdump has captured so far, and its counts once stopped."""

    ns: str
    dev: str
    mac: str | None = None
    is_port: bool = False
    id: str = ""
    pid: int = 0
    link_type: str = ""
    argv: list[str] = field(default_factory=list)  # the tcpdump command line that runs on the target
    stream: PcapStream = field(default_factory=PcapStream)
    frames: list[Frame] = field(default_factory=list)  # the frames of the capture's window (module docstring)
    outside: int = 0  # frames in the pcap file but outside the window
    running: bool = True
    stats: dict[str, int | None] = field(default_factory=dict)
    window: tuple[float | None, float | None] = (None, None)  # (t0, t_end) on the target's clock

    def keep(self, frames: list[Frame]) -> int:
        """Add newly read frames: those inside the window to ``frames``, the rest counted as ``outside``."""
        t0, end = self.window
        kept = 0
        for frame in frames:
            if (t0 is not None and frame.time < t0) or (end is not None and frame.time > end):
                self.outside += 1
            else:
                self.frames.append(frame)
                kept += 1
        return kept

    def close_window(self, end: float | None) -> None:
        """The stop was requested at ``end``: frames already kept that came after it leave the window."""
        self.window = (self.window[0], end)
        if end is not None:
            inside = [frame for frame in self.frames if frame.time <= end]
            self.outside += len(self.frames) - len(inside)
            self.frames[:] = inside

    @property
    def key(self) -> str:
        return f"{self.ns}/{self.dev}"

    @property
    def lost(self) -> int | None:
        """Packets tcpdump counted but that are not in the pcap we read (None while running)."""
        captured = self.stats.get("captured")
        if captured is None:
            return None
        return max(0, captured - self.stream.count) + int(self.stats.get("dropped") or 0)
