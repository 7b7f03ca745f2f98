"""A region's Prometheus through its cluster's API server (the service proxy), for when no `--prometheus-url` is
given: `GET /api/v1/namespaces/monitoring/services/kube-prometheus-stack-prometheus:9090/proxy/api/v1/query`,
authenticated as the kubeconfig's user.

Takes a `kubernetes.client.ApiClient` (built from the stack's kubeconfig by `cli/live/kube.py`, issue 16 items 1-2)
and reads only its `configuration`: `host`, `auth_settings()` (the bearer token EKS's `aws eks get-token` exec
plugin yields, refreshed by the client's own hook), `ssl_ca_cert`, `cert_file`/`key_file`, `verify_ssl`; the
`kubernetes` package is not imported here. Note for the merge with `status`: `actuals` still needs
`--prometheus-url`; wiring `--kubeconfig/--context` to this function is the hook.
"""

from __future__ import annotations

import ssl
import urllib.parse
import urllib.request
from typing import Any

from cli.live.prometheus import Prometheus
from infra.conventions import MONITORING_NAMESPACE, PROMETHEUS_PORT, PROMETHEUS_SERVICE


def service_proxy_path(namespace: str = MONITORING_NAMESPACE, service: str = PROMETHEUS_SERVICE,
                       port: int = PROMETHEUS_PORT) -> str:
    """The API server's proxy path to a Service's port (Kubernetes API "proxy" subresource of a Service)."""
    return f"/api/v1/namespaces/{urllib.parse.quote(namespace)}/services/{urllib.parse.quote(service)}:{port}/proxy"


def _headers(configuration: Any) -> dict[str, str]:
    settings = configuration.auth_settings() if hasattr(configuration, "auth_settings") else {}
    headers = {}
    for setting in settings.values():
        if setting.get("in") == "header" and setting.get("value"):
            headers[setting["key"]] = setting["value"]
    return headers


def _tls(configuration: Any) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=getattr(configuration, "ssl_ca_cert", None) or None)
    if getattr(configuration, "cert_file", None):
        context.load_cert_chain(configuration.cert_file, getattr(configuration, "key_file", None) or None)
    if getattr(configuration, "verify_ssl", True) is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def prometheus_via_api_server(api_client: Any) -> Prometheus:
    """The monitoring namespace's Prometheus, reached through `api_client`'s API server."""
    configuration = api_client.configuration
    url = configuration.host.rstrip("/") + service_proxy_path()
    https = url.startswith("https:")
    context = _tls(configuration) if https else None

    def opener(endpoint: str, timeout: float):
        request = urllib.request.Request(endpoint, headers=_headers(configuration))  # headers per call: tokens expire
        return urllib.request.urlopen(request, timeout=timeout, context=context)

    return Prometheus(url, opener)
