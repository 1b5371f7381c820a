"""``robollm serve``: an OpenAI-compatible completions server over any backend of this layer.

It lets another process (or machine) share one loaded model, and it is the real server the
HTTP backend is tested against. It scores text only: requests must ask for ``echo`` and get
the echoed prompt's per-token log-probabilities in the OpenAI format; nothing is generated,
whatever ``max_tokens`` says. ``top_logprobs`` entries are ``null``.

One model serves every client, one prompt at a time, in the order the prompts were asked
for: a request of many prompts takes turns with the others prompt by prompt instead of
holding the model for its whole length. Requests are bounded (prompts per request, tokens
per prompt), and a request whose client has hung up is dropped before its next prompt.
"""

from __future__ import annotations

import json
import select
import selectors
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from robollm.errors import UserError
from robollm.llm.base import LanguageModel

MAX_BODY = 16 << 20
# Defaults of the per-request bounds (robollm serve --max-prompts, --max-tokens-per-prompt).
# 256 prompts is several planner steps' candidates; 4,096 tokens is well past a SayCan
# prompt (~250-600 tokens) and about what a small CPU model scores in reasonable time.
MAX_PROMPTS = 256
MAX_TOKENS_PER_PROMPT = 4096


def completion_choice(model: LanguageModel, index: int, text: str) -> dict[str, Any]:
    tokens = model.token_logprobs(text)
    return {
        "index": index,
        "text": text,
        "logprobs": {
            "tokens": [t.text for t in tokens],
            "token_logprobs": [t.logprob for t in tokens],
            "top_logprobs": [None] * len(tokens),
            "text_offset": [t.offset for t in tokens],
        },
        "finish_reason": "length",
    }


class FairLock:
    """A lock taken in the order it was asked for.

    ``threading.Lock`` lets the thread that releases it take it straight back, so a request
    that takes the lock prompt by prompt could still keep it for its whole length.
    """

    def __init__(self) -> None:
        self._turn = threading.Condition()
        self._next = 0
        self._serving = 0

    def __enter__(self) -> FairLock:
        with self._turn:
            ticket = self._next
            self._next += 1
            while ticket != self._serving:
                self._turn.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._turn:
            self._serving += 1
            self._turn.notify_all()


def client_gone(connection: socket.socket) -> bool:
    """Whether the peer closed the connection: readable with nothing to read. Bytes waiting
    (a pipelined request) mean it is still there."""
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        if not readable:
            return False
        return connection.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):  # reset, or already closed on this side
        return True


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 60  # s a client may take to send its request; idle keep-alive ends then too

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None,
              close: bool = False) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, message: str, *, close: bool = False,
               headers: dict[str, str] | None = None) -> None:
        kind = "invalid_request_error" if status < 500 else "server_error"
        self._send(status, {"error": {"message": message, "type": kind, "code": status}},
                   headers=headers, close=close)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors found by the request parser (bad request line, unknown method) as JSON too."""
        self.close_connection = True
        text = message or self.responses.get(code, ("error",))[0]
        try:
            self._error(code, text, close=True)
        except OSError:
            pass

    def _not_allowed(self) -> None:
        self._error(405, f"method {self.command} is not allowed; use GET (/v1/models, /health) "
                    "or POST (/v1/completions)", headers={"Allow": "GET, POST"}, close=True)

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _not_allowed

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            entry = {"id": self.server.model.name, "object": "model", "owned_by": "robollm",
                     "max_prompts": self.server.max_prompts,
                     "max_tokens_per_prompt": self.server.max_tokens}
            self._send(200, {"object": "list", "data": [entry]})
        elif self.path.rstrip("/") == "/health":
            self._send(200, {"status": "ok"})
        else:
            self._error(404, f"no route {self.path}")

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering an error (the connection then closes,
        since the rest of what the client sent cannot be told apart from a next request)."""
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        text = raw.strip()
        if not (text.isascii() and text.isdigit()):  # no sign, no other script's digits
            self._error(400, f"Content-Length must be a whole number of bytes, got {raw!r}",
                        close=True)
            return None
        length = int(text)
        if length > MAX_BODY:
            self._error(413, f"request body is {length} bytes, more than {MAX_BODY}", close=True)
            return None
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            return None  # the client went away before sending it all; no one to answer
        return body

    def do_POST(self) -> None:
        body = self._read_body()
        if body is None:
            return
        if self.path.rstrip("/") not in ("/v1/completions", "/completions"):
            self._error(404, f"no route {self.path}")
            return
        try:
            request = json.loads(body or b"null")
        except ValueError:
            self._error(400, "body is not JSON")
            return
        if not isinstance(request, dict):
            self._error(400, "body must be a JSON object")
            return
        prompts = request.get("prompt")
        if isinstance(prompts, str):
            prompts = [prompts]
        if not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts):
            self._error(400, "prompt must be a string or a list of strings")
            return
        if not request.get("echo"):
            self._error(400, "this server only scores text: send echo=true and logprobs")
            return
        if len(prompts) > self.server.max_prompts:
            self._error(413, f"{len(prompts)} prompts in one request; this server takes at most "
                        f"{self.server.max_prompts} (robollm serve --max-prompts)")
            return
        choices = self._score_all(prompts)
        if choices is None:
            return
        count = sum(len(c["logprobs"]["tokens"]) for c in choices)
        self._send(
            200,
            {
                "id": f"cmpl-{uuid.uuid4().hex[:24]}",
                "object": "text_completion",
                "created": int(time.time()),
                "model": self.server.model.name,
                "choices": choices,
                "usage": {"prompt_tokens": count, "completion_tokens": 0, "total_tokens": count},
            },
        )

    def _score_all(self, prompts: list[str]) -> list[dict[str, Any]] | None:
        """Every prompt's choice, or None after answering an error or when the client left.

        The model lock is taken per prompt, so a long request lets others' prompts in
        between its own; before each prompt the client is checked to still be there.
        """
        model, limit = self.server.model, self.server.max_tokens
        try:
            with self.server.lock:  # tokenizers are not all safe to share between threads
                counts = [model.count_tokens(prompt) for prompt in prompts]
            for i, n in enumerate(counts):
                if n is not None and n > limit:
                    self._error(413, f"prompt {i} is {n} tokens; this server takes at most "
                                f"{limit} per prompt (robollm serve --max-tokens-per-prompt)")
                    return None
            choices = []
            for i, prompt in enumerate(prompts):
                if client_gone(self.connection):
                    self.close_connection = True
                    self.server.dropped += 1
                    return None
                with self.server.lock:
                    choices.append(completion_choice(model, i, prompt))
            return choices
        except UserError as error:
            self._error(400, str(error))
        except Exception as error:  # a server must answer, not die: report it as a 500
            self._error(500, f"{type(error).__name__}: {error}")
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], model: LanguageModel, verbose: bool,
                 max_prompts: int, max_tokens: int) -> None:
        super().__init__(address, _Handler)
        self.model = model
        self.verbose = verbose
        self.max_prompts = max_prompts
        self.max_tokens = max_tokens
        self.dropped = 0  # requests abandoned because their client had gone
        # Models are not safe to run from several threads at once; prompts queue here.
        self.lock = FairLock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer is not the server's error: no traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def make_server(
    model: LanguageModel,
    host: str = "127.0.0.1",
    port: int = 0,
    verbose: bool = False,
    *,
    max_prompts: int = MAX_PROMPTS,
    max_tokens_per_prompt: int = MAX_TOKENS_PER_PROMPT,
) -> ThreadingHTTPServer:
    """A bound, not yet running server (call ``serve_forever``); port 0 picks a free one."""
    if max_prompts < 1 or max_tokens_per_prompt < 1:
        raise UserError("the server's prompt and token limits must be at least 1")
    return _Server((host, port), model, verbose, max_prompts, max_tokens_per_prompt)


def start_subprocess(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120.0
) -> tuple[subprocess.Popen[str], str]:
    """Run ``robollm serve`` (this module) in its own process on a free loopback port.

    Returns the process and its base URL once it listens; the caller terminates it. Handy
    for sharing one loaded model between processes, and for testing the HTTP backend
    against a real server.
    """
    command = [sys.executable, "-m", "robollm", "serve", "--port", "0", *args]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        ready = selector.select(timeout)
    line = process.stdout.readline() if ready else ""
    if "listening on " not in line:
        process.kill()
        _, errors = process.communicate()
        reason = (errors or "").strip().splitlines()[-1:] or ["no output"]
        raise UserError(f"language-model server did not start: {reason[0]}")
    return process, line.split("listening on ")[1].split()[0]
