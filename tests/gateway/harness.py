"""The real-proxy tests' machinery: OpenAI-compatible stub servers on loopback, a sinkhole standing in for the
internet, and LiteLLM's proxy (the pinned release, from scripts/setup.sh's `.tools/litellm`) as a subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from infra.gateway_config import HEALTH_PATH
from tests.paths import ROOT

LITELLM_VENV = ROOT / ".tools" / "litellm"
LITELLM_BIN = LITELLM_VENV / "bin" / "litellm"
START_TIMEOUT_S = 180  # the proxy imports a lot; a busy 2-core CI runner needs tens of seconds
REQUEST_TIMEOUT_S = 60
HOLD_TIMEOUT_S = 60  # a held stub answers anyway after this: no test can hang on it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StubServer:
    """An OpenAI-compatible chat completions server on 127.0.0.1 that counts what it is sent.

    `delay` makes every answer slow (to saturate the gateway's limit); `usage_tokens` is the prompt and completion
    token count each answer reports (the gateway prices it for the budget); `stop()` closes the port (an outage),
    `start()` opens the same port again."""

    def __init__(self, name: str):
        self.name = name
        self.port = free_port()
        self.delay = 0.0
        self.usage_tokens = 10
        self.gate: threading.Event | None = None  # while set to an unset Event, every request waits for it
        self.received: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.received.values())

    def start(self) -> None:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: stop() then refuses every new request

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                model = str(body.get("model", ""))
                with stub._lock:
                    stub.received[model] += 1
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                try:
                    gate = stub.gate
                    if gate is not None:
                        gate.wait(timeout=HOLD_TIMEOUT_S)
                    if stub.delay:
                        time.sleep(stub.delay)
                    tokens = stub.usage_tokens
                    answer = {
                        "id": f"chatcmpl-{stub.name}", "object": "chat.completion", "created": int(time.time()),
                        "model": model,
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": f"answered by {stub.name}"}}],
                        "usage": {"prompt_tokens": tokens, "completion_tokens": tokens, "total_tokens": 2 * tokens},
                    }
                    data = json.dumps(answer).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    with stub._lock:
                        stub.in_flight -= 1

            def do_GET(self):
                data = json.dumps({"object": "list", "data": []}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):  # the gateway hung up first (a timeout): expected
                pass

        server = Server(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def hold(self) -> None:
        """From now on every request waits (at most HOLD_TIMEOUT_S) until `release()`: the fleet is saturated."""
        self.gate = threading.Event()

    def release(self) -> None:
        if self.gate is not None:
            self.gate.set()
            self.gate = None

    @property
    def waiting(self) -> int:
        with self._lock:
            return self.in_flight

    def stop(self) -> None:
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self.max_in_flight = 0
        self.delay = 0.0
        self.usage_tokens = 10
        self.release()


class Sinkhole:
    """A TCP listener that stands in for the internet: the proxy's HTTP(S)_PROXY points here, and every connection
    it receives is an attempt to reach the network (recorded, then closed)."""

    def __init__(self):
        self.port = free_port()
        self.connections: list[bytes] = []
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", self.port))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.connections.append(conn.recv(200))
                except OSError:
                    self.connections.append(b"")

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


def offline_env(sinkhole: Sinkhole) -> dict[str, str]:
    """Proxy settings that send any request to a non-loopback address into the sinkhole."""
    proxy = f"http://127.0.0.1:{sinkhole.port}"
    return {"HTTP_PROXY": proxy, "HTTPS_PROXY": proxy, "ALL_PROXY": proxy, "http_proxy": proxy,
            "https_proxy": proxy, "all_proxy": proxy, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


class Proxy:
    """LiteLLM's proxy on 127.0.0.1 (one worker), started from the config directory `files` (name -> text, as
    `gateway_config.render_files` gives it) with `env` added to a bare environment."""

    def __init__(self, files: dict[str, str], env: dict[str, str], workdir: Path):
        from infra.gateway_config import CONFIG_FILE, proxy_args

        self.port = free_port()
        config_dir = workdir / "config"
        config_dir.mkdir()
        for name, text in files.items():
            (config_dir / name).write_text(text)
        self.config_path = config_dir / CONFIG_FILE
        self.log_path = workdir / "litellm.log"
        base = {k: os.environ[k] for k in ("PATH", "LANG", "TMPDIR", "SYSTEMROOT") if k in os.environ}
        base["HOME"] = str(workdir)  # nothing from the user's home (no ~/.config, no cached credentials)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            # the pods' arguments (the image's entrypoint runs `litellm "$@"`), on loopback and a free port
            [str(LITELLM_BIN), *proxy_args(str(self.config_path), host="127.0.0.1", port=self.port)],
            env={**base, **env}, stdout=self._log, stderr=subprocess.STDOUT, cwd=workdir)
        self.started_in_s = self._wait_ready()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def _wait_ready(self) -> float:
        start = time.monotonic()
        while time.monotonic() - start < START_TIMEOUT_S:
            if self.process.poll() is not None:
                raise RuntimeError(f"LiteLLM's proxy exited with {self.process.returncode}:\n{self.log()}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{self.url}{HEALTH_PATH}", timeout=2) as r:
                    if r.status == 200:
                        return time.monotonic() - start
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"LiteLLM's proxy did not answer within {START_TIMEOUT_S} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log.close()

    def chat(self, model: str, key: str, extra: dict | None = None, timeout: float = REQUEST_TIMEOUT_S) -> tuple[int, dict]:
        """POST /v1/chat/completions; (status, JSON body)."""
        body = {"model": model, "messages": [{"role": "user", "content": "hello"}], **(extra or {})}
        req = urllib.request.Request(f"{self.url}/v1/chat/completions", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw or b"{}")
            except ValueError:
                return e.code, {"raw": raw.decode(errors="replace")}

    def get(self, path: str, key: str | None = None) -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        req = urllib.request.Request(f"{self.url}{path}", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT_S) as r:
                return r.status, r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")
