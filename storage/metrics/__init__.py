"""Metrics computed from stored facts with SQL aggregates: every number in one package.

``compute_summary`` gives every metric of a window (definitions in its docstring); ``overview``
the volumes the hourly snapshot stores. ``sql`` holds the portable SQL pieces they share.
"""

from storage.metrics.overview import Overview, overview
from storage.metrics.summary import compute_summary

__all__ = ["Overview", "compute_summary", "overview"]
