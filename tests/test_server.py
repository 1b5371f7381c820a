"""`robollm serve`: bounds, fairness, clients that leave, malformed requests, its options."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402

from robollm.llm import FakeLanguageModel  # noqa: E402
from robollm.llm.base import TokenLogprob  # noqa: E402
from robollm.llm.server import make_server, start_subprocess  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}


class SlowFake(FakeLanguageModel):
    """A fake that takes ``delay`` seconds per scored text and records which it scored."""

    def __init__(self, delay: float) -> None:
        super().__init__({})
        self.delay, self.scored = delay, []
        self._inside = 0
        self.overlapped = False

    def token_logprobs(self, text: str) -> list[TokenLogprob]:
        self._inside += 1
        self.overlapped |= self._inside > 1
        time.sleep(self.delay)
        self.scored.append(text)
        self._inside -= 1
        return super().token_logprobs(text)


class Running:
    def __init__(self, model: FakeLanguageModel, **limits: int) -> None:
        self.model = model
        self.server = make_server(model, **limits)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def post(self, payload: object, path: str = "/completions") -> tuple[int, dict]:
        request = urllib.request.Request(self.url + path, data=json.dumps(payload).encode(),
                                         headers={"Content-Type": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def running() -> Iterator:
    servers: list[Running] = []

    def make(model: FakeLanguageModel | None = None, **limits: int) -> Running:
        servers.append(Running(model or FakeLanguageModel({"a b": -2.0}), **limits))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def raw(port: int, data: bytes, wait: float = 10.0) -> bytes:
    """Send bytes as they are and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def split(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def test_too_many_prompts_is_413_saying_the_limit(running) -> None:
    server = running(max_prompts=3)
    status, answer = server.post({"prompt": ["x a b"] * 4, "echo": True, "logprobs": 1})
    assert status == 413
    assert "at most 3" in answer["error"]["message"] and "--max-prompts" in answer["error"]["message"]
    assert server.post({"prompt": ["x a b"] * 3, "echo": True, "logprobs": 1})[0] == 200


def test_too_long_a_prompt_is_413_saying_the_limit(running) -> None:
    model = SlowFake(0.0)
    server = running(model, max_tokens_per_prompt=5)
    status, answer = server.post({"prompt": ["one two", "1 2 3 4 5 6"], "echo": True})
    assert status == 413
    message = answer["error"]["message"]
    assert "prompt 1 is 6 tokens" in message and "at most 5" in message
    assert model.scored == []  # refused before anything was computed
    assert server.post({"prompt": "1 2 3 4 5", "echo": True})[0] == 200


def test_limits_are_listed_with_the_model(running) -> None:
    server = running(max_prompts=7, max_tokens_per_prompt=9)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(server.url + "/models", timeout=10) as response:
        entry = json.loads(response.read())["data"][0]
    assert (entry["max_prompts"], entry["max_tokens_per_prompt"]) == (7, 9)


def test_work_of_a_client_that_left_is_dropped(running) -> None:
    model = SlowFake(0.1)
    server = running(model)
    body = json.dumps({"prompt": [f"p{i} a" for i in range(40)], "echo": True}).encode()
    head = f"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(head.encode() + body)
    time.sleep(0.35)
    sock.close()
    time.sleep(0.6)
    done = len(model.scored)
    assert done < 10  # 40 prompts would take 4 s
    assert server.server.dropped == 1
    time.sleep(0.3)
    assert len(model.scored) == done  # and nothing more is computed


def test_a_long_request_takes_turns_with_a_short_one(running) -> None:
    model = SlowFake(0.05)
    server = running(model)
    finished: dict[str, float] = {}

    def ask(name: str, count: int) -> None:
        status, _ = server.post({"prompt": [f"{name}{i} a" for i in range(count)], "echo": True})
        assert status == 200
        finished[name] = time.monotonic()

    long = threading.Thread(target=ask, args=("long", 30))
    long.start()
    time.sleep(0.2)
    asked = time.monotonic()
    ask("short", 1)
    long.join()
    assert finished["short"] < finished["long"]
    assert finished["short"] - asked < 0.5  # one or two of the long one's prompts, not 30
    short_at = model.scored.index("short0 a")
    assert 0 < short_at < 15
    assert not model.overlapped  # still one prompt at a time on the model


def test_a_one_token_prompt_is_scored(running, tiny_folder: Path) -> None:
    from robollm.llm.hf import HFCausalLM

    model = HFCausalLM.load(tiny_folder, threads=1)
    server = running(model)  # type: ignore[arg-type]
    text = next(t for t in ("r", "a", "x", " ", "e") if model.count_tokens(t) == 1)
    status, answer = server.post({"prompt": text, "echo": True, "logprobs": 1})
    assert status == 200, answer
    assert answer["choices"][0]["logprobs"]["token_logprobs"] == [None]
    assert [t.logprob for t in model.token_logprobs(text)] == [None]


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", ""])
def test_a_bad_content_length_is_400_and_closes(running, length: str) -> None:
    server = running()
    request = (f"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n"
               '{"prompt": "a b", "echo": true}').encode()
    status, headers, body = split(raw(server.port, request))  # returns: the server closed
    assert status == 400
    assert headers["connection"] == "close"
    assert "Content-Length" in json.loads(body)["error"]["message"]


def test_a_huge_content_length_is_413_and_closes(running) -> None:
    server = running()
    request = b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n{}"
    status, headers, body = split(raw(server.port, request))
    assert status == 413 and headers["connection"] == "close"
    assert "more than" in json.loads(body)["error"]["message"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
def test_other_methods_are_json_405(running, method: str) -> None:
    server = running()
    request = f"{method} /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    status, headers, body = split(raw(server.port, request.encode()))
    assert status == 405
    assert headers["content-type"] == "application/json" and headers["allow"] == "GET, POST"
    if method == "HEAD":
        assert body == b""
    else:
        assert "not allowed" in json.loads(body)["error"]["message"]


def test_parser_errors_are_json_too(running) -> None:
    server = running()
    status, headers, body = split(raw(server.port, b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert status == 501 and headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == 501


def test_malformed_requests_leave_no_traceback_in_the_log() -> None:
    process, url = start_subprocess("--backend", "fake", env=ENV)
    try:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        for length in ("abc", "-1"):
            raw(port, f"POST /v1/completions HTTP/1.1\r\nContent-Length: {length}\r\n\r\n".encode())
        with socket.create_connection(("127.0.0.1", port)) as sock:  # leaves mid-body
            sock.sendall(b"POST /v1/completions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        raw(port, b"DELETE / HTTP/1.1\r\n\r\n")
        body = b'{"prompt": "a b", "echo": true}'
        answer = raw(port, b"POST /v1/completions HTTP/1.1\r\nConnection: close\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        assert split(answer)[0] == 200  # still serving
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
    assert "Traceback" not in errors and "Error" not in errors, errors


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robollm", "serve", *args], env=ENV,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_a_bad_port_is_a_one_line_error(port: str) -> None:
    result = serve("--backend", "fake", "--port", port)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "0 to 65535" in lines[0], result.stderr


def test_help_says_the_limits() -> None:
    result = serve("--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for words in ("--max-prompts", "--max-tokens-per-prompt", "one prompt at a time",
                  "HTTP 413", "hung up"):
        assert words in text, words
