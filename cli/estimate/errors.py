"""The estimate's own error (a catalog without a price raises `infra.price_catalog.MissingPrice`)."""


class EstimateError(ValueError):
    """The stack cannot be estimated as written; the message names the key or resource."""
