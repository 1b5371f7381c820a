"""``robollm serve``: an OpenAI-compatible completions server over any backend of this layer.

It lets another process (or machine) share one loaded model, and it is the real server the
HTTP backend is tested against. It scores text only: requests must ask for ``echo`` and get
the echoed prompt's per-token log-probabilities in the OpenAI format; nothing is generated,
whatever ``max_tokens`` says. ``top_logprobs`` entries are ``null``.
"""

from __future__ import annotations

import json
import selectors
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


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"error": {"message": message, "type": "invalid_request_error"}})

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            entry = {"id": self.server.model.name, "object": "model", "owned_by": "robollm"}
            self._send(200, {"object": "list", "data": [entry]})
        elif self.path.rstrip("/") == "/health":
            self._send(200, {"status": "ok"})
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:
        if self.path.rstrip("/") not in ("/v1/completions", "/completions"):
            self._error(404, f"no route {self.path}")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._error(413, "request body too large")
            return
        try:
            request = json.loads(self.rfile.read(length) or b"null")
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
        try:
            with self.server.lock:
                choices = [
                    completion_choice(self.server.model, i, p) for i, p in enumerate(prompts)
                ]
        except UserError as error:
            self._error(400, str(error))
            return
        except Exception as error:  # a server must answer, not die: report it as a 500
            self._error(500, f"{type(error).__name__}: {error}")
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


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], model: LanguageModel, verbose: bool) -> None:
        super().__init__(address, _Handler)
        self.model = model
        self.verbose = verbose
        # Models are not safe to run from several threads at once; requests queue here.
        self.lock = threading.Lock()


def make_server(
    model: LanguageModel, host: str = "127.0.0.1", port: int = 0, verbose: bool = False
) -> ThreadingHTTPServer:
    """A bound, not yet running server (call ``serve_forever``); port 0 picks a free one."""
    return _Server((host, port), model, verbose)


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
