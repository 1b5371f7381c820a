"""The OpenAI-compatible HTTP backend against a real server process and scripted servers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402

from robollm.errors import UserError  # noqa: E402
from robollm.llm import FakeLanguageModel, OpenAICompletionsLM  # noqa: E402
from robollm.llm.examples import saycan_candidates, saycan_prompt  # noqa: E402
from robollm.llm.server import completion_choice, start_subprocess  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TABLE = {c.strip(): -1.0 - 0.25 * i for i, c in enumerate(saycan_candidates()[::4])}


def start_server(*args: str) -> tuple[subprocess.Popen, str]:
    return start_subprocess(*args, env={**os.environ, "PYTHONPATH": str(REPO)})


@pytest.fixture(scope="module")
def fake_server() -> Iterator[str]:
    process, url = start_server(
        "--backend", "fake", "--fake-scores", json.dumps(TABLE), "--fake-default", "-12.5"
    )
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_http_scores_equal_in_process_scores(fake_server: str) -> None:
    local = FakeLanguageModel(TABLE, default=-12.5)
    remote = OpenAICompletionsLM(fake_server)
    prompt, candidates = saycan_prompt(), saycan_candidates()
    want = local.score(prompt, candidates, neutral_prompt="Robot: I would")
    got = remote.score(prompt, candidates, neutral_prompt="Robot: I would")
    assert [g.text for g in got] == candidates
    for w, g in zip(want, got, strict=True):
        assert g.logprob == pytest.approx(w.logprob, abs=1e-9)
        assert g.num_tokens == w.num_tokens
        assert g.unconditional_logprob == pytest.approx(w.unconditional_logprob, abs=1e-9)
    assert remote.model == "fake"  # discovered through /v1/models
    assert len({g.logprob for g in got}) > 2  # the table really differs from the default


def test_server_rejects_requests_it_cannot_answer(fake_server: str) -> None:
    def post(payload: dict) -> int:
        request = urllib.request.Request(
            fake_server + "/completions",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    assert post({"prompt": "a b", "echo": True, "logprobs": 1}) == 200
    assert post({"prompt": "a b", "echo": False}) == 400
    assert post({"prompt": [1, 2, 3], "echo": True}) == 400


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_server_is_a_quick_user_error() -> None:
    model = OpenAICompletionsLM(f"http://127.0.0.1:{free_port()}", model="m", backoff=0.01)
    start = time.monotonic()
    with pytest.raises(UserError, match="cannot reach LLM server"):
        model.score("p", [" a"])
    assert time.monotonic() - start < 5


class Scripted:
    """A loopback server whose answers a test scripts, one function per request."""

    def __init__(self, answers: list[Callable[[BaseHTTPRequestHandler, dict], None]]):
        self.answers, self.requests = answers, []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append(body)
                owner.answers[min(len(owner.requests), len(owner.answers)) - 1](self, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def reply(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def good(handler: BaseHTTPRequestHandler, request: dict) -> None:
    """An echo answer plus one generated token, as servers give for max_tokens=1."""
    fake = FakeLanguageModel({"x y": -3.0})
    choices = [completion_choice(fake, i, text) for i, text in enumerate(request["prompt"])]
    for choice in reversed(choices):  # some servers do not keep the order; index does
        logprobs = choice["logprobs"]
        logprobs["tokens"].append(" The")
        logprobs["token_logprobs"].append(-0.1)
        logprobs["text_offset"].append(len(choice["text"]))
    reply(handler, 200, json.dumps({"choices": list(reversed(choices))}).encode())


@pytest.fixture
def scripted() -> Iterator[Callable[..., Scripted]]:
    servers: list[Scripted] = []

    def make(*answers: Callable[[BaseHTTPRequestHandler, dict], None]) -> Scripted:
        servers.append(Scripted(list(answers)))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def test_server_error_is_retried(scripted: Callable[..., Scripted]) -> None:
    server = scripted(lambda h, r: reply(h, 500, b"busy"), good)
    model = OpenAICompletionsLM(server.url, model="m", backoff=0.01)
    scores = model.score("p:", [" x y", " z"])
    assert len(server.requests) == 2
    assert [s.logprob for s in scores] == [-3.0, -20.0]
    assert [s.num_tokens for s in scores] == [2, 1]
    assert server.requests[1]["echo"] is True and server.requests[1]["prompt"] == ["p: x y", "p: z"]


def test_client_errors_are_not_retried(scripted: Callable[..., Scripted]) -> None:
    server = scripted(lambda h, r: reply(h, 400, b'{"error": "no such model"}'))
    with pytest.raises(UserError, match="HTTP 400.*no such model"):
        OpenAICompletionsLM(server.url, model="m", backoff=0.01).score("p", [" a"])
    assert len(server.requests) == 1


def test_persistent_server_errors_give_up(scripted: Callable[..., Scripted]) -> None:
    server = scripted(lambda h, r: reply(h, 503, b"down"))
    with pytest.raises(UserError, match="3 attempts.*503"):
        OpenAICompletionsLM(server.url, model="m", retries=2, backoff=0.01).score("p", [" a"])
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>oops</html>", "non-JSON"),
        (b'{"choices": []}', "expected 1 choices"),
        (b'{"choices": [{"index": 0, "text": "p a"}]}', "no echoed log-probs"),
    ],
)
def test_bad_answers_are_user_errors(
    scripted: Callable[..., Scripted], body: bytes, message: str
) -> None:
    server = scripted(lambda h, r: reply(h, 200, body))
    with pytest.raises(UserError, match=message):
        OpenAICompletionsLM(server.url, model="m", backoff=0.01).score("p", [" a"])


def test_slow_server_times_out(scripted: Callable[..., Scripted]) -> None:
    def slow(handler: BaseHTTPRequestHandler, request: dict) -> None:
        time.sleep(1.0)
        good(handler, request)

    server = scripted(slow)
    model = OpenAICompletionsLM(server.url, model="m", timeout=0.2, retries=0)
    with pytest.raises(UserError, match="timed out"):
        model.score("p", [" a"])


def test_bad_url_is_a_user_error() -> None:
    with pytest.raises(UserError, match="http://host:port"):
        OpenAICompletionsLM("localhost:8000")
