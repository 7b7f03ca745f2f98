"""API offers: genai-prices offline lookups and custom per-1M-token prices."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from cli.pricing import api
from infra.spec import CustomApiOffer

WHEN = datetime(2026, 11, 24, 12, tzinfo=UTC)


def test_article_example_is_15000_usd_a_month():
    # $0.03 per 1K tokens on input and output, 1M requests a month, 500 tokens each (seed article)
    offer = api.custom_offer(CustomApiOffer(name="article", inputPerMTokUsd=30, outputPerMTokUsd=30), 250, 250)
    assert offer.monthly_usd(1_000_000) == Decimal("15000")
    same = api.custom_offer(CustomApiOffer(name="article", inputPerMTokUsd=30, outputPerMTokUsd=30), 500, 0)
    assert same.monthly_usd(1_000_000) == Decimal("15000")


def test_genai_prices_offer_uses_the_bundled_snapshot():
    offer = api.resolve("openai:gpt-4o-mini", 1_000_000, 1_000_000, WHEN)
    assert (offer.provider, offer.model) == ("openai", "gpt-4o-mini")
    assert offer.input_per_mtok_usd == Decimal("0.15") and offer.output_per_mtok_usd == Decimal("0.6")
    assert offer.request_usd == Decimal("0.75")
    assert "genai-prices" in offer.source and "no auto-update" in offer.source


def test_tiered_prices_apply_to_the_request_size():
    small = api.resolve("anthropic:claude-sonnet-4-5", 1000, 1000, WHEN)
    assert small.request_usd == Decimal("0.018")  # 3 + 15 per 1M: below the 200k-token tier
    assert small.tiers


def test_unknown_offer_is_an_error_naming_it():
    with pytest.raises(api.UnknownApiOffer, match="openai:no-such-model"):
        api.resolve("openai:no-such-model", 10, 10, WHEN)
    with pytest.raises(api.UnknownApiOffer, match="nosuchprovider"):
        api.resolve("nosuchprovider:x", 10, 10, WHEN)


def test_lookups_never_touch_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert api.resolve("groq:llama-3.1-8b-instant", 100, 100, WHEN).request_usd > 0
