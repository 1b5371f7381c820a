"""`robollm serve`: a language model as an OpenAI-compatible scoring server on loopback."""

from __future__ import annotations

import argparse

from robollm.errors import UserError
from robollm.llm.factory import create_language_model, read_scores
from robollm.llm.server import make_server


def serve_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="robollm serve", description="Serve a language model as OpenAI /v1/completions."
    )
    parser.add_argument("--backend", choices=("hf", "fake"), default="hf")
    parser.add_argument("--model", help="model folder or .gguf file (default: embedded SmolLM2)")
    parser.add_argument("--adapter", help="hf backend: LoRA adapter folder or name in launch/adapters "
                        "(e.g. saycan-smollm2); clients must then send that adapter's prompt")
    parser.add_argument("--threads", type=int, help="torch threads for the hf backend")
    parser.add_argument("--dtype", default="float32", help="hf weights: float32 or bfloat16")
    parser.add_argument("--fake-scores", help="fake backend: JSON object or file")
    parser.add_argument("--fake-default", type=float, default=-20.0)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    if args.backend == "hf":
        options = dict(model=args.model, threads=args.threads, dtype=args.dtype, adapter=args.adapter)
    else:
        if args.adapter:
            raise UserError("--adapter works with the hf backend only (a LoRA adapter is merged "
                            "into a local model's weights)")
        options = dict(scores=read_scores(args.fake_scores) if args.fake_scores else None,
                       default=args.fake_default)
    model = create_language_model(args.backend, source="robollm serve", **options)
    try:
        server = make_server(model, args.host, args.port, args.verbose)
    except OSError as error:
        raise UserError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    host, port = server.server_address[:2]
    print(f"robollm serve: listening on http://{host}:{port}/v1 model={model.name}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        model.close()
    return 0
