"""Figures: what was generated and how deliveries went, live.

Owns the counters, latency and lateness histograms and time series of every schedule and of
the whole process (fixed memory, no threads, no I/O), and their Prometheus exposition. May
import the foundation modules only (and ``prometheus_client`` for the exposition).
"""
