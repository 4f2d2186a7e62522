"""``tlslint logs``: access logs read as a stream, measured per window (LOG101 to LOG104).

* ``formats``: the log formats (nginx ``log_format`` strings compiled to parsers,
  JSON lines from the Apigee hybrid / Envoy ingress) and their detection;
* ``reader``: plain, gzip, bzip2 and xz files, read line by line;
* ``analysis``: one pass, constant memory in the number of lines except the
  per-window counters and capped per-client and per-name maps;
* ``html`` and ``text``: the picture (an SVG chart) and the terminal summary.
"""
