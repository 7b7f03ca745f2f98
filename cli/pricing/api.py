"""API offers: `provider:model` resolved through genai-prices' bundled data snapshot, or custom prices.

genai-prices can auto-update from the network (`UpdatePrices`); we never start it, so a lookup reads
only the data shipped in the installed package, and we say which package version that was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only a type here: the CLI imports this module without building the spec's models
    from infra.spec import CustomApiOffer

MILLION = Decimal(1_000_000)


class UnknownApiOffer(LookupError):
    """`apiComparison[i]` names a provider or model genai-prices does not know."""


@dataclass(frozen=True)
class ApiOffer:
    name: str
    """As the stack names it: `provider:model` or the custom offer's name."""
    provider: str | None
    model: str | None
    input_per_mtok_usd: Decimal
    """Base price per 1M input tokens (tiers noted in `tiers`)."""
    output_per_mtok_usd: Decimal
    source: str
    request_usd: Decimal
    """Price of one request of the stack's token counts (tiers applied)."""
    tiers: str | None = None

    def monthly_usd(self, requests_per_month: float | Decimal) -> Decimal:
        return self.request_usd * Decimal(str(requests_per_month))


def genai_prices_source() -> str:
    from cli.cache import package_version

    return f"genai-prices {package_version('genai-prices')} bundled data snapshot (offline, no auto-update)"


def custom_offer(offer: CustomApiOffer, input_tokens: int, output_tokens: int) -> ApiOffer:
    inp = Decimal(str(offer.input_per_m_tok_usd))
    out = Decimal(str(offer.output_per_m_tok_usd))
    return ApiOffer(
        name=offer.name, provider=None, model=None, input_per_mtok_usd=inp, output_per_mtok_usd=out,
        source="stack file apiComparison (custom prices)",
        request_usd=(inp * input_tokens + out * output_tokens) / MILLION,
    )


def near_offers(ref: str, n: int = 3) -> list[str]:
    """The `provider:model` names genai-prices knows nearest to `ref` (`gpt4o-mini` -> `openai:gpt-4o-mini`):
    compared whole, and by model id alone when `ref` names no provider or a wrong one."""
    import difflib

    from genai_prices.data_snapshot import get_snapshot  # only on a bad offer: 0.3 s

    providers = get_snapshot().providers
    names = {f"{p.id}:{m.id}": m.id for p in providers for m in p.models}
    size = {p.id: len(p.models) for p in providers}  # without a provider, the one with most models first (openai)
    model = ref.split(":", 1)[-1].lower()
    by_model = difflib.get_close_matches(model, sorted(set(names.values())), n=n, cutoff=0.75)
    picks = [full for wanted in by_model for full, m in names.items() if m == wanted]
    provider = ref.split(":", 1)[0].lower() if ":" in ref else None
    picks.sort(key=lambda full: (by_model.index(names[full]), full.split(":", 1)[0] != provider,
                                 -size[full.split(":", 1)[0]], full))
    whole = difflib.get_close_matches(ref.lower(), sorted(names), n=n, cutoff=0.75) if provider else []
    return list(dict.fromkeys([*whole, *picks]))[:n]


def near_offer_hint(ref: str) -> str:
    near = near_offers(ref)
    return f"did you mean {' or '.join(near)}? " if near else ""


def resolve(ref: str, input_tokens: int, output_tokens: int, when: datetime | None = None) -> ApiOffer:
    """Price one request of the stack's size with genai-prices' `provider:model`."""
    from genai_prices import Usage  # imported here: 0.3 s, skipped on a warm run
    from genai_prices.data_snapshot import get_snapshot

    provider_id, model_ref = ref.split(":", 1)
    when = when or datetime.now(tz=UTC)
    try:
        provider, model = get_snapshot().find_provider_model(model_ref, None, provider_id, None)
    except LookupError as err:
        raise UnknownApiOffer(f"{ref!r}: genai-prices does not know it ({err}); {near_offer_hint(ref)}use "
                              "provider:model from genai-prices or a custom {name, inputPerMTokUsd, outputPerMTokUsd}") from None
    prices = model.get_prices(when)
    calc = model.calc_price(Usage(input_tokens=input_tokens, output_tokens=output_tokens), provider,
                            genai_request_timestamp=when)

    def base(price) -> Decimal:
        return Decimal(str(getattr(price, "base", price) or 0))

    tiers = None
    if hasattr(prices.input_mtok, "tiers") or hasattr(prices.output_mtok, "tiers"):
        tiers = "tiered on prompt length; priced at the stack's tokens per request"
    return ApiOffer(
        name=ref, provider=provider.id, model=model.id, input_per_mtok_usd=base(prices.input_mtok),
        output_per_mtok_usd=base(prices.output_mtok), source=f"{genai_prices_source()}: {provider.id}/{model.id}",
        request_usd=Decimal(str(calc.total_price)), tiers=tiers,
    )
