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

from robollm.errors import LanguageModelUnavailable, UserError  # noqa: E402
from robollm.llm import FakeLanguageModel, OpenAICompletionsLM  # noqa: E402
from robollm.llm.examples import saycan_candidates, saycan_prompt  # noqa: E402
from robollm.llm.http import ALIGNMENT_PROBE  # noqa: E402
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
    """A loopback server whose answers a test scripts, one function per request; the last
    function answers every later request. It counts the requests it received."""

    def __init__(self, answers: list[Callable[[BaseHTTPRequestHandler, dict], None]]):
        self.answers, self.requests = answers, []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append(body)
                owner.answers[min(len(owner.requests), len(owner.answers)) - 1](self, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def reply(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def prompts_of(request: dict) -> list[str]:
    prompt = request["prompt"]
    return [prompt] if isinstance(prompt, str) else prompt


def good(handler: BaseHTTPRequestHandler, request: dict) -> None:
    """An echo answer plus one generated token, as servers give for max_tokens=1."""
    fake = FakeLanguageModel({"x y": -3.0})
    choices = [completion_choice(fake, i, text) for i, text in enumerate(prompts_of(request))]
    for choice in reversed(choices):  # some servers do not keep the order; index does
        logprobs = choice["logprobs"]
        logprobs["tokens"].append(" The")
        logprobs["token_logprobs"].append(-0.1)
        logprobs["text_offset"].append(len(choice["text"]))
    reply(handler, 200, json.dumps({"choices": list(reversed(choices))}).encode())


def one_at_a_time(handler: BaseHTTPRequestHandler, request: dict) -> None:
    """A server that takes a single prompt only (as llama-cpp-python's does)."""
    if isinstance(request["prompt"], list):
        reply(handler, 500, b'{"error": {"message": "prompt must be a string"}}')
    else:
        good(handler, request)


def generating(shift: bool) -> Callable[[BaseHTTPRequestHandler, dict], None]:
    """A server that generates " bowl" (log-prob -0.5) after the alignment probe; echoed,
    each word gets its own log-prob, or with ``shift`` the next word's (-4.0)."""

    def answer(handler: BaseHTTPRequestHandler, request: dict) -> None:
        text = prompts_of(request)[0]
        if not request["echo"]:
            logprobs = {"tokens": [" bowl"], "token_logprobs": [-0.5], "text_offset": [len(text)]}
        else:
            words = text.split(" ")
            tokens = [words[0]] + [" " + w for w in words[1:]] + [" The"]
            offsets = [sum(len(t) for t in tokens[:k]) for k in range(len(tokens))]
            values = [None] + [-0.5 if t == " bowl" else -4.0 for t in tokens[1:]]
            if shift:
                values = [None] + values[2:] + [-1.0]
            logprobs = {"tokens": tokens, "token_logprobs": values, "text_offset": offsets}
        reply(handler, 200, json.dumps({"choices": [{"index": 0, "logprobs": logprobs}]}).encode())

    return answer


@pytest.fixture
def scripted() -> Iterator[Callable[..., Scripted]]:
    servers: list[Scripted] = []

    def make(*answers: Callable[[BaseHTTPRequestHandler, dict], None]) -> Scripted:
        servers.append(Scripted(list(answers)))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def client(url: str, **options: object) -> OpenAICompletionsLM:
    """A client for a scripted server: no alignment probe unless a test asks for it."""
    options = {"model": "m", "backoff": 0.01, "check_alignment": False, **options}
    return OpenAICompletionsLM(url, **options)  # type: ignore[arg-type]


def test_lists_of_prompts_go_in_batches(scripted: Callable[..., Scripted]) -> None:
    server = scripted(good)
    scores = client(server.url, batch_size=2).score("p:", [" x y", " z", " w"])
    assert [s.logprob for s in scores] == [-3.0, -20.0, -20.0]
    assert [s.num_tokens for s in scores] == [2, 1, 1]
    assert [r["prompt"] for r in server.requests] == [["p: x y", "p: z"], "p: w"]
    assert all(r["echo"] is True and r["logprobs"] == 1 for r in server.requests)


def test_server_that_refuses_lists_gets_one_prompt_per_request(
    scripted: Callable[..., Scripted], caplog: pytest.LogCaptureFixture
) -> None:
    server = scripted(one_at_a_time)
    model = client(server.url)
    scores = model.score("p:", [" x y", " z", " w"])
    assert [s.logprob for s in scores] == [-3.0, -20.0, -20.0]
    assert [r["prompt"] for r in server.requests] == [["p: x y", "p: z", "p: w"],
                                                      "p: x y", "p: z", "p: w"]
    assert model.batch_size == 1
    assert "refused a list of prompts" in caplog.text
    model.score("p:", [" x y", " z"])  # from then on one at a time, no list tried again
    assert [r["prompt"] for r in server.requests[4:]] == ["p: x y", "p: z"]


def test_a_server_error_on_one_prompt_is_not_retried(scripted: Callable[..., Scripted]) -> None:
    server = scripted(lambda h, r: reply(h, 500, b'{"error": {"message": "CUDA out of memory"}}'))
    with pytest.raises(UserError, match=r"answered HTTP 500: CUDA out of memory$"):
        client(server.url, retries=3).score("p", [" a"])
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (404, b'{"error": {"message": "The model `m` does not exist."}}',
         "HTTP 404: The model `m` does not exist."),
        (400, b'{"error": "no such model"}', "HTTP 400: no such model"),
        (422, b'{"detail": [{"msg": "field required"}]}', "HTTP 422: .*field required"),
        (500, b"<html>Internal Server Error</html>", "HTTP 500: <html>Internal Server Error"),
    ],
)
def test_http_errors_say_the_status_and_the_servers_message(
    scripted: Callable[..., Scripted], status: int, body: bytes, message: str
) -> None:
    server = scripted(lambda h, r: reply(h, status, body))
    with pytest.raises(UserError, match=message) as caught:
        client(server.url).score("p", [" a", " b"])
    assert "\n" not in str(caught.value)
    # 404 says nothing about lists; the others are tried once more with one prompt
    assert len(server.requests) == (1 if status == 404 else 2)


def test_refused_and_overloaded_are_retried(scripted: Callable[..., Scripted]) -> None:
    server = scripted(lambda h, r: reply(h, 503, b"loading"), lambda h, r: reply(h, 429, b"{}"), good)
    scores = client(server.url, retries=2).score("p:", [" x y"])
    assert [s.logprob for s in scores] == [-3.0]
    assert len(server.requests) == 3


def test_persistent_overload_gives_up(scripted: Callable[..., Scripted]) -> None:
    server = scripted(lambda h, r: reply(h, 503, b'{"error": {"message": "down"}}'))
    with pytest.raises(UserError, match="not taking requests .3 attempts.: HTTP 503: down"):
        client(server.url, retries=2).score("p", [" a"])
    assert len(server.requests) == 3


def test_a_request_that_times_out_is_never_sent_again(scripted: Callable[..., Scripted]) -> None:
    def slow(handler: BaseHTTPRequestHandler, request: dict) -> None:
        time.sleep(1.0)
        good(handler, request)

    server = scripted(slow)
    model = client(server.url, timeout=0.3, retries=3)
    start = time.monotonic()
    with pytest.raises(UserError, match="no answer within 0.3 s.*not sent again"):
        model.score("p", [" a"])
    assert time.monotonic() - start < 1.0
    time.sleep(1.2)  # long enough for a re-sent copy to have arrived
    assert len(server.requests) == 1


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
        client(server.url).score("p", [" a"])


def test_shifted_echo_log_probs_are_refused_in_one_line(scripted: Callable[..., Scripted]) -> None:
    server = scripted(generating(shift=True))
    model = client(server.url, check_alignment=True)
    with pytest.raises(UserError, match="misaligned prompt log-probabilities") as caught:
        model.score("p:", [" x y"])
    assert "\n" not in str(caught.value)
    assert "-0.500" in str(caught.value) and "-4.000" in str(caught.value)
    first, second = server.requests
    assert first["prompt"] == ALIGNMENT_PROBE and first["echo"] is False
    assert second["prompt"] == ALIGNMENT_PROBE + " bowl" and second["echo"] is True
    assert len(server.requests) == 2  # nothing scored


def test_aligned_server_passes_the_check_once(scripted: Callable[..., Scripted]) -> None:
    server = scripted(generating(shift=False))
    model = client(server.url, check_alignment=True)
    model.score("p:", [" x y"])
    model.score("p:", [" x z"])
    assert model.alignment is not None and model.alignment.startswith("ok")
    assert [r["prompt"] for r in server.requests[2:]] == ["p: x y", "p: x z"]


def test_robollm_serve_is_known_to_score_only(fake_server: str) -> None:
    model = OpenAICompletionsLM(fake_server)
    model.score("p:", [" a"])
    assert model.alignment == "robollm serve (scores only; not probed)"


def test_server_that_dies_mid_run_is_unavailable(scripted: Callable[..., Scripted]) -> None:
    server = scripted(good)
    model = client(server.url, retries=1)
    model.score("p:", [" x y"])
    server.close()  # it answered once, then went away
    with pytest.raises(LanguageModelUnavailable, match="cannot reach LLM server.*refused"):
        model.score("p:", [" x y"])


def test_a_client_error_mid_run_stays_a_user_error(scripted: Callable[..., Scripted]) -> None:
    server = scripted(good, lambda h, r: reply(h, 400, b'{"error": "prompt too long"}'))
    model = client(server.url, batch_size=1)
    model.score("p:", [" x y"])
    with pytest.raises(UserError, match="prompt too long") as caught:
        model.score("p:", [" x y"])
    assert not isinstance(caught.value, LanguageModelUnavailable)


def test_bad_settings_are_user_errors() -> None:
    with pytest.raises(UserError, match="http://host:port"):
        OpenAICompletionsLM("localhost:8000")
    with pytest.raises(UserError, match="timeout"):
        OpenAICompletionsLM("http://localhost:8000", timeout=0)
    with pytest.raises(UserError, match="batch_size"):
        OpenAICompletionsLM("http://localhost:8000", batch_size=0)
