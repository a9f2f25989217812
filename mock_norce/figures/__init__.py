"""Figures: live counts, latency histograms and time series, and their Prometheus exposition.

Fixed memory, no threads, no I/O. May import the foundation modules only (and
``prometheus_client`` for the exposition).
"""
