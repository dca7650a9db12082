"""Notebook views: the cell view (topology + commands + captures), capture panes, topology widget."""

from .capture import CapturePane, CapturePanes
from .stepview import step_view
from .topology import TopologyWidget

__all__ = ["CapturePane", "CapturePanes", "TopologyWidget", "step_view"]
