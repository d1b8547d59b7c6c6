"""Driving-simulator mode: a person (or the autopilot) at the wheel in real time, with motion cueing.

``simcore drive SCENARIO`` (``command.py``) runs ``loop.DriveLoop``: the ego's dynamic
single-track model at the physics rate (1 kHz) paced to the wall clock, the engine's traffic
and evaluation at the scenario's step through ``adapter.EngineAdapter`` (the one module that
touches engine internals), inputs from the keyboard, a game controller or the cockpit's UDP
protocol (``protocol``, ``udp``, ``inputs``), motion cueing (``simcore.cueing``), UDP outputs
and a window (``window``). See docs/drive.md.
"""
