"""The op executors of the agent: op action → the function that runs it.

A :class:`collections.ChainMap` over each family's table, built once; each family
module (:mod:`.linkops`, :mod:`.ipops`) keeps its own table next to its functions.
"""

from __future__ import annotations

from collections import ChainMap

from . import ipops, linkops
from .done import Executor

EXECUTORS: ChainMap[str, Executor] = ChainMap(linkops.EXECUTORS, ipops.EXECUTORS)
