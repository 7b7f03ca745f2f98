"""Day two: what the running fleet does, read through each region's Kubernetes API (and Prometheus)."""
