"""Captures on the target: tcpdump per device, pcap read back, decoded with scapy.

:class:`~labkit.capture.session.Capture` is what ``lab.capture(...)`` returns;
:mod:`.decode` turns frames into ``tcpdump -n -e``-style lines; :mod:`.pcap` reads and
writes the pcap format, :mod:`.pcapng` one file of every device; :mod:`.sharkd` runs
Wireshark's dissectors, whose replies :mod:`.dissection` parses and :mod:`.wireshark`
offers as ``cap.dissect(...)`` and ``cap.follow(...)``.
"""

from .decode import Frame, summarize
from .pcap import PcapStream, write_pcap
from .session import Capture

__all__ = ["Capture", "Frame", "PcapStream", "summarize", "write_pcap"]
