"""Observations of running systems: ``tlslint probe`` (one TLS endpoint, measured).

``tlslint logs`` lives in ``tlslint.logs``; both report through ``tlslint.live.adapter``,
which turns their findings into a ``RunResult`` for the static checks' formatters.
"""
