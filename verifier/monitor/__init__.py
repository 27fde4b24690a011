"""`verifier monitor`: the probe on a schedule, with a history, Prometheus metrics,
alerts and a status page. See docs/monitor.md."""
