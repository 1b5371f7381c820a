"""Score candidates with any OpenAI-compatible completions server (vLLM, llama.cpp, robollm).

Such servers report prompt log-probabilities when asked to echo the prompt
(``echo: true, logprobs: 1``). Each candidate is sent as ``prompt + candidate``, all of a
step's candidates in one request, and the candidate's tokens are the returned tokens whose
characters (``text_offset``) overlap the candidate. A token that straddles the boundary
counts as a candidate token, because it carries candidate text.

Only the standard library is used, so this backend works in a minimal install.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from robollm.errors import UserError
from robollm.llm.base import CandidateScore, LanguageModel

_RETRY_STATUS = {429, 500, 502, 503, 504}
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class OpenAICompletionsLM(LanguageModel):
    """A remote model behind ``/v1/completions``.

    Connection failures, timeouts and 429/5xx answers are retried ``retries`` times with
    exponential backoff (``backoff``, ``2 * backoff``, ...); every other failure becomes a
    one-line :class:`UserError` naming the server.
    """

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_tokens: int = 1,
        max_batch: int = 64,
        api_key: str | None = None,
    ) -> None:
        parsed = urllib.parse.urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise UserError(f"LLM server URL must look like http://host:port, got {base_url!r}")
        root = base_url.rstrip("/")
        self.base = root if root.endswith("/v1") else root + "/v1"
        self.model = model
        self.name = model or self.base
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_tokens = max_tokens
        self.max_batch = max(1, max_batch)
        self.api_key = api_key
        handlers = [urllib.request.ProxyHandler({})] if parsed.hostname in _LOOPBACK else []
        self._opener = urllib.request.build_opener(*handlers)

    # -- transport ---------------------------------------------------------------------------

    def _request(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        url = self.base + path
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = None if payload is None else json.dumps(payload).encode()
        problem = "no attempt made"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(url, data=data, headers=headers)
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    body = response.read()
            except urllib.error.HTTPError as error:
                detail = _short(error.read())
                if error.code in _RETRY_STATUS:
                    problem = f"HTTP {error.code} {detail}"
                    continue
                raise UserError(
                    f"LLM server {url} refused the request: HTTP {error.code} {detail}"
                ) from None
            except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
                reason = getattr(error, "reason", error)
                problem = "timed out" if isinstance(reason, socket.timeout) else str(reason)
                continue
            try:
                return json.loads(body)
            except ValueError:
                raise UserError(
                    f"LLM server {url} sent a non-JSON answer: {_short(body)}"
                ) from None
        tries = self.retries + 1
        raise UserError(f"cannot reach LLM server {url} ({tries} attempts): {problem}")

    def _model_name(self) -> str:
        """vLLM insists on a model name; ask the server when none was given."""
        if self.model is None:
            listing = self._request("/models")
            try:
                self.model = str(listing["data"][0]["id"])
            except (KeyError, IndexError, TypeError):
                raise UserError(f"LLM server {self.base} lists no model; pass one") from None
        return self.model

    # -- scoring -----------------------------------------------------------------------------

    def _score(self, prompt: str, candidates: list[str]) -> list[CandidateScore]:
        results: list[CandidateScore] = []
        for start in range(0, len(candidates), self.max_batch):
            chunk = candidates[start : start + self.max_batch]
            payload = {
                "model": self._model_name(),
                "prompt": [prompt + candidate for candidate in chunk],
                "echo": True,
                "logprobs": 1,
                "max_tokens": self.max_tokens,
                "temperature": 0.0,
            }
            answer = self._request("/completions", payload)
            choices = self._choices(answer, len(chunk))
            results += [
                self._candidate(prompt, candidate, choice)
                for candidate, choice in zip(chunk, choices, strict=True)
            ]
        return results

    def _choices(self, answer: Any, expected: int) -> list[dict[str, Any]]:
        choices = answer.get("choices") if isinstance(answer, dict) else None
        if not isinstance(choices, list) or len(choices) != expected:
            got = len(choices) if isinstance(choices, list) else "no"
            raise UserError(
                f"bad answer from LLM server {self.base}: expected {expected} choices, got {got}"
            )
        if all(isinstance(c, dict) and isinstance(c.get("index"), int) for c in choices):
            choices = sorted(choices, key=lambda c: c["index"])
        return choices

    def _candidate(self, prompt: str, candidate: str, choice: Any) -> CandidateScore:
        try:
            logprobs = choice["logprobs"]
            tokens = [str(t) for t in logprobs["tokens"]]
            values = list(logprobs["token_logprobs"])
            offsets = logprobs.get("text_offset")
        except (KeyError, TypeError):
            raise UserError(
                f"bad answer from LLM server {self.base}: no echoed log-probs "
                "(does it support echo=true with logprobs?)"
            ) from None
        if offsets is None:  # derive them when the server omits them
            offsets, position = [], 0
            for token in tokens:
                offsets.append(position)
                position += len(token)
        if not (len(tokens) == len(values) == len(offsets)):
            raise UserError(f"bad answer from LLM server {self.base}: log-prob lists differ")
        begin, end = len(prompt), len(prompt) + len(candidate)
        picked = [
            values[k]
            for k in range(len(tokens))
            if offsets[k] < end and offsets[k] + len(tokens[k]) > begin
        ]
        if not picked or any(not isinstance(v, (int, float)) for v in picked):
            raise UserError(
                f"bad answer from LLM server {self.base}: no log-probs for candidate "
                f"{candidate!r} (is the prompt empty, or the echo missing?)"
            )
        lps = tuple(float(v) for v in picked)
        return CandidateScore(candidate, sum(lps), len(lps), token_logprobs=lps)


def _short(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip().replace("\n", " ")
    return text[:200] + ("..." if len(text) > 200 else "")
