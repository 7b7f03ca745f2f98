"""Architecture facts of well-known open models, for memory fit and KV-cache sizing.

Values are read from each repository's `config.json` on Hugging Face (num_hidden_layers,
num_key_value_heads, hidden_size / num_attention_heads) and its model card's parameter
count; checked 2026-11-24. A stack serving another model gives `model.parametersBillion`
and `model.architecture` itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Architecture:
    parameters_billion: float
    layers: int
    kv_heads: int
    head_dim: int

    def kv_bytes_per_token(self, dtype_bytes: float) -> float:
        """K and V, every layer, every KV head: 2 x layers x kv_heads x head_dim x bytes."""
        return 2 * self.layers * self.kv_heads * self.head_dim * dtype_bytes


_LLAMA3_8B = Architecture(8.03, 32, 8, 128)
_LLAMA3_70B = Architecture(70.6, 80, 8, 128)

KNOWN_MODELS: dict[str, Architecture] = {
    "meta-llama/Meta-Llama-3-8B": _LLAMA3_8B,
    "meta-llama/Meta-Llama-3-8B-Instruct": _LLAMA3_8B,
    "meta-llama/Llama-3.1-8B": _LLAMA3_8B,
    "meta-llama/Llama-3.1-8B-Instruct": _LLAMA3_8B,
    "meta-llama/Meta-Llama-3-70B-Instruct": _LLAMA3_70B,
    "meta-llama/Llama-3.1-70B": _LLAMA3_70B,
    "meta-llama/Llama-3.1-70B-Instruct": _LLAMA3_70B,
    "meta-llama/Llama-3.3-70B-Instruct": _LLAMA3_70B,
    "mistralai/Mistral-7B-Instruct-v0.3": Architecture(7.25, 32, 8, 128),
    "Qwen/Qwen2.5-7B-Instruct": Architecture(7.62, 28, 4, 128),
    "Qwen/Qwen2.5-32B-Instruct": Architecture(32.8, 64, 8, 128),
    "Qwen/Qwen2.5-72B-Instruct": Architecture(72.7, 80, 8, 128),
}


def known_architecture(source: str) -> Architecture | None:
    return KNOWN_MODELS.get(source)
