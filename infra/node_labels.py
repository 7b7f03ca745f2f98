"""The one source of the GPU nodes' labels and taint, as plain data (no Pulumi: the CLI may import it).

The node groups set them (`infra/components/gpu_pool.py`), the vLLM chart values
(`infra/chart_values.py`), the add-ons' and dcgm-exporter's selectors and the cluster-autoscaler ASG
tags read them from here.
"""

from __future__ import annotations

WORKLOAD_LABEL = "tradeoff-infra.io/workload"
LLM_WORKLOAD = "llm-inference"
GPU_POOL_LABEL = "tradeoff-infra.io/gpu-pool"
GPU_MODEL_LABEL = "tradeoff-infra.io/gpu"
GPU_NODE_SELECTOR = {WORKLOAD_LABEL: LLM_WORKLOAD}
# Taint as Kubernetes writes it (key, value, effect); EKS's API spells the effect NO_SCHEDULE.
GPU_TAINT = ("nvidia.com/gpu", "true", "NoSchedule")
