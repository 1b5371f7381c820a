"""Training the knock classifier: simulated knocks, augmented so no one room is learned.

The clips come from the simulator (real knocks, and fast clips rendered from their
impacts; see `robollm.sim.knocks`). Every batch is augmented afresh: a gain, a random
tilt of the spectrum (a microphone's or a room's colour), a room's reverberation
(exponentially decaying noise mixed in), background noise at a random level and a
shift of where the analysis window starts. Validation is on real knocks only, never
augmented, so the figure says how well the fast clips stand in for the real thing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from robollm.perception.sound import (
    PRE_ONSET,
    SAMPLE_RATE,
    WINDOW,
    log_mel,
    make_network,
    onset_window,
)
from robollm.world.scene import MATERIALS

REVERB_SECONDS = (0.05, 0.5)  # RT60 range of the simulated rooms
REVERB_MIX = (0.0, 0.35)  # wet / dry amplitude
NOISE_DB = (-65.0, -20.0)  # background noise level relative to the clip's peak
GAIN_DB = (-30.0, 6.0)
TILT_DB = 12.0  # at most this much gain difference from 100 Hz to 10 kHz
SHIFT = 0.01  # s of jitter in where the window starts


@dataclass
class TrainSettings:
    epochs: int = 12
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    device: str = "cpu"


def augment(clips: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(B, samples) full clips -> (B, window samples) augmented analysis windows."""
    b, n = clips.shape
    out = clips.astype(np.float64) * 10 ** (rng.uniform(*GAIN_DB, (b, 1)) / 20)
    spec = np.fft.rfft(out, axis=1)
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    octave = np.log2(np.maximum(freqs, 50.0) / 1000.0) / np.log2(100.0)  # -1..1 over 100 Hz..10 kHz
    tilt = rng.uniform(-TILT_DB, TILT_DB, (b, 1)) * octave[None]
    out = np.fft.irfft(spec * 10 ** (tilt / 20), n, axis=1)
    # Reverberation: the dry sound plus itself through a decaying-noise impulse response.
    ir_n = int(REVERB_SECONDS[1] * SAMPLE_RATE)
    t = np.arange(ir_n) / SAMPLE_RATE
    rt60 = rng.uniform(*REVERB_SECONDS, (b, 1))
    ir = rng.standard_normal((b, ir_n)) * np.exp(-6.9 * t[None] / rt60)
    ir /= np.sqrt((ir ** 2).sum(axis=1, keepdims=True))
    size = n + ir_n
    wet = np.fft.irfft(np.fft.rfft(out, size, axis=1) * np.fft.rfft(ir, size, axis=1), size, axis=1)[:, :n]
    out = out + rng.uniform(*REVERB_MIX, (b, 1)) * wet
    peak = np.abs(out).max(axis=1, keepdims=True) + 1e-12
    out = out + peak * 10 ** (rng.uniform(*NOISE_DB, (b, 1)) / 20) * rng.standard_normal((b, n))
    shifts = rng.integers(-int(SHIFT * SAMPLE_RATE), int(SHIFT * SAMPLE_RATE) + 1, b)
    return np.stack([onset_window(out[i], int(shifts[i])) for i in range(b)]).astype(np.float32)


def plain_windows(clips: np.ndarray) -> np.ndarray:
    return np.stack([onset_window(c) for c in clips]).astype(np.float32)


def train(train_clips: np.ndarray, train_labels: np.ndarray, valid_clips: np.ndarray, valid_labels: np.ndarray,
          settings: TrainSettings, progress: Callable[[int, float, float], None] | None = None):
    """Train a fresh network; returns it and the per-epoch record (loss, validation accuracy)."""
    import torch

    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    net = make_network().to(settings.device)
    opt = torch.optim.AdamW(net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    steps = settings.epochs * ((len(train_clips) + settings.batch_size - 1) // settings.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, settings.lr, total_steps=steps)
    history = []
    valid_x = plain_windows(valid_clips)
    for epoch in range(settings.epochs):
        started = time.time()
        net.train()
        order = rng.permutation(len(train_clips))
        total, count = 0.0, 0
        for first in range(0, len(order), settings.batch_size):
            idx = order[first:first + settings.batch_size]
            x = torch.from_numpy(augment(train_clips[idx], rng)).to(settings.device)
            y = torch.from_numpy(train_labels[idx]).to(settings.device)
            loss = torch.nn.functional.cross_entropy(net(log_mel(x)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total, count = total + loss.item() * len(idx), count + len(idx)
        accuracy = evaluate(net, valid_x, valid_labels, settings.device)
        history.append({"epoch": epoch + 1, "train_loss": round(total / count, 4),
                        "valid_accuracy": round(accuracy, 4), "seconds": round(time.time() - started, 1)})
        if progress:
            progress(epoch + 1, total / count, accuracy)
    return net.cpu().eval(), history


def predict(net, windows: np.ndarray, device: str = "cpu") -> np.ndarray:
    import torch

    net.eval()
    out = []
    with torch.no_grad():
        for first in range(0, len(windows), 256):
            x = torch.from_numpy(windows[first:first + 256]).to(device)
            out.append(net(log_mel(x)).argmax(dim=1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def evaluate(net, windows: np.ndarray, labels: np.ndarray, device: str = "cpu") -> float:
    return float((predict(net, windows, device) == labels).mean()) if len(labels) else float("nan")


def labels_of(materials: list[str]) -> np.ndarray:
    return np.array([MATERIALS.index(m) for m in materials], dtype=np.int64)


def window_note() -> str:
    return f"{WINDOW} s from {PRE_ONSET} s before the onset"
