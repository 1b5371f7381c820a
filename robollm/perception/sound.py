"""What a knock says: the material, from a small network on the knock's log-mel spectrogram.

A struck object rings at frequencies set by its size and material, and each ring dies
away at a rate set by the material's damping: steel rings for tens of milliseconds,
foam thuds. Size moves every frequency together, so the network looks at the pattern
of the rings (their spacing and how fast each fades) on a mel scale, where a size
change is close to a shift. Features are computed with torch (no torchaudio). The
network is trained by `robollm train sound`; the default ships in
`robollm/perception/models/` beside the JSON record of how it was made.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from robollm.perception.evidence import Evidence, belief_sentence, no_reading
from robollm.robot.sensors import AudioClip
from robollm.world.scene import MATERIALS

SAMPLE_RATE = 32000
WINDOW = 0.25  # s analysed from just before the impact
PRE_ONSET = 0.005  # s kept before the onset
ONSET_FRACTION = 0.3  # the onset is the first sample above this fraction of the peak
N_FFT, HOP, N_MELS, F_MIN = 1024, 128, 96, 40.0
QUIET = 2e-3  # peak amplitude below which a clip is silence (the knock skill's own level)
MODEL_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_MODEL = MODEL_DIR / "knock_sound.safetensors"
# How each material sounds, for the adjectives style (Matcha-like sound words).
TIMBRE = {"metal": "metallic", "glass": "glassy", "ceramic": "like china", "wood": "woody",
          "plastic": "plasticky", "foam": "muffled"}


def resample(samples: np.ndarray, rate: int) -> np.ndarray:
    if rate == SAMPLE_RATE:
        return samples.astype(np.float32)
    n = int(round(len(samples) * SAMPLE_RATE / rate))
    return np.interp(np.arange(n) * rate / SAMPLE_RATE, np.arange(len(samples)), samples).astype(np.float32)


def onset_window(samples: np.ndarray, shift: int = 0) -> np.ndarray:
    """`WINDOW` seconds from `PRE_ONSET` before the first loud sample (plus `shift` samples)."""
    n = int(WINDOW * SAMPLE_RATE)
    peak = float(np.max(np.abs(samples), initial=0.0))
    onset = int(np.argmax(np.abs(samples) >= ONSET_FRACTION * peak)) if peak > 0 else 0
    start = max(0, onset - int(PRE_ONSET * SAMPLE_RATE) + shift)
    out = samples[start:start + n]
    return np.pad(out, (0, n - len(out))) if len(out) < n else out


@lru_cache(maxsize=1)
def mel_filters() -> np.ndarray:
    """(N_MELS, N_FFT // 2 + 1) triangular filters, equal area, on the HTK mel scale."""
    def mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def hz(m):
        return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)

    freqs = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    edges = hz(np.linspace(mel(F_MIN), mel(SAMPLE_RATE / 2), N_MELS + 2))
    fb = np.zeros((N_MELS, len(freqs)), dtype=np.float32)
    for i in range(N_MELS):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        rise = (freqs - lo) / (mid - lo)
        fall = (hi - freqs) / (hi - mid)
        fb[i] = np.maximum(0.0, np.minimum(rise, fall)) * 2.0 / (hi - lo)
    return fb


def log_mel(batch):
    """(B, samples) float tensor -> (B, 1, N_MELS, frames) log-mel in [0, 1], peak at 1.

    Normalised by each clip's own peak: how hard the knock was says nothing of material.
    """
    import torch

    window = torch.hann_window(N_FFT, device=batch.device)
    spec = torch.stft(batch, N_FFT, HOP, window=window, return_complex=True).abs() ** 2
    mel = torch.from_numpy(mel_filters()).to(batch.device) @ spec
    db = 10.0 * torch.log10(mel + 1e-12)
    db = db - db.amax(dim=(1, 2), keepdim=True)
    return (db.clamp(min=-80.0) / 80.0 + 1.0).unsqueeze(1)


def make_network():
    """About 60 k parameters: four conv blocks, then average and max over the whole map."""
    from torch import nn

    class KnockNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layers: list[nn.Module] = []
            for i, (c_in, c_out) in enumerate(((1, 16), (16, 32), (32, 64), (64, 64))):
                layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]
                if i < 3:
                    layers.append(nn.MaxPool2d(2))
            self.body = nn.Sequential(*layers)
            self.head = nn.Linear(128, len(MATERIALS))

        def forward(self, x):
            import torch

            h = self.body(x)
            return self.head(torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1))

    return KnockNet()


def decay_seconds(window: np.ndarray, drop_db: float = 20.0) -> float:
    """How long the ring lasts: time for the remaining energy (Schroeder) to fall by `drop_db`."""
    x = window.astype(np.float64)
    start = int(np.argmax(np.abs(x)))
    remaining = np.cumsum((x[start:] ** 2)[::-1])[::-1]
    if len(remaining) == 0 or remaining[0] <= 0:
        return 0.0
    level = 10.0 * np.log10(remaining / remaining[0] + 1e-30)
    below = level < -drop_db
    return float(np.argmax(below) if below.any() else len(level)) / SAMPLE_RATE


def ring_word(seconds: float) -> str:
    if seconds >= 0.06:
        return "rings"
    if seconds >= 0.015:
        return "rings briefly"
    return "thuds"


class SoundInterpreter:
    """Knock recording -> material beliefs, with words and a line for the prompt."""

    def __init__(self, model_path: str | Path | None = None) -> None:
        import torch
        from safetensors.torch import load_file

        path = Path(model_path) if model_path else DEFAULT_MODEL
        self.net = make_network()
        self.net.load_state_dict(load_file(str(path)))
        self.net.eval()
        record = path.with_suffix(".json")
        self.record = json.loads(record.read_text()) if record.is_file() else {}
        self.torch = torch

    def probabilities(self, windows: np.ndarray) -> np.ndarray:
        """(B, samples) onset windows -> (B, materials) probabilities."""
        torch = self.torch
        with torch.no_grad():
            logits = self.net(log_mel(torch.from_numpy(np.ascontiguousarray(windows, dtype=np.float32))))
            return torch.softmax(logits, dim=1).numpy()

    def interpret(self, clip: AudioClip | None) -> Evidence:
        if clip is None or len(clip.samples) == 0:
            return no_reading("sound", "nothing was recorded")
        samples = resample(np.asarray(clip.samples, dtype=np.float32), clip.sample_rate)
        peak = float(np.max(np.abs(samples), initial=0.0))
        if peak < QUIET:
            return no_reading("sound", "the knock made no sound")
        window = onset_window(samples)
        probs = self.probabilities(window[None])[0]
        beliefs = {m: float(p) for m, p in sorted(zip(MATERIALS, probs, strict=True), key=lambda kv: -kv[1])}
        top = next(iter(beliefs))
        ring = decay_seconds(window)
        words = (TIMBRE[top], ring_word(ring))
        return Evidence("sound", True, beliefs[top], words, beliefs,
                        {"ring_seconds": ring, "peak": peak, "level_db": 20 * math.log10(peak)},
                        adjective_line=f"It sounds {words[0]} and {words[1]}.",
                        belief_line=belief_sentence(beliefs))
