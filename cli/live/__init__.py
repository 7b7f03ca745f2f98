"""Day two: what the running fleet does (`status`, rollout watch, `actuals`), read from its clusters and Prometheus."""
