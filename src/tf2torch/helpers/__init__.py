"""Runtime helpers copied verbatim into generated model.py files, only when used.

One module per topic. A helper is a top-level function (or nn.Module class) whose source depends
only on torch, math and other helpers (by bare name): emit.py copies its source, and the sources of
the helpers it calls. Names must be unique across modules. Comments say where a semantic comes from.
"""
from __future__ import annotations
