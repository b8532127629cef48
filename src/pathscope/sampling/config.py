"""What a sampling job is: models, problems, prompt and sampling parameters.

Read from ``pathscope.toml`` (``tomllib``) and overridden by command-line
flags.  Every field a user can get wrong is checked here, and the error names
the file and the field, so a job never starts half-configured.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError

BACKENDS = ("vllm", "transformers", "openai")
BUILTIN_TEMPLATES = ("qwen-boxed", "chat", "raw")


@dataclass
class SamplingParams:
    """The paper's protocol by default: temperature 0.6, top-p 0.95, no stop strings."""

    n: int = 8
    temperature: float = 0.6
    top_p: float = 0.95
    max_tokens: int = 1024
    seed: int = 0
    stop: list[str] = field(default_factory=list)
    #: sample indices are index_offset .. index_offset + n - 1 (give each node of a
    #: multi-node job its own range, then `pathscope merge`)
    index_offset: int = 0


@dataclass
class PromptSpec:
    """``template``: a built-in name or a custom string containing ``{question}``."""

    template: str = "qwen-boxed"
    system: str | None = None


@dataclass
class ProblemSelection:
    """Which of the run's problems to sample: all, or by ids / source, capped by limit."""

    ids: list[str] | None = None
    source: str | None = None
    limit: int | None = None


@dataclass
class ModelSpec:
    name: str
    role: str = "base"
    backend: str = "transformers"
    path: str | None = None
    endpoints: list[str] = field(default_factory=list)
    dtype: str = "auto"
    device: str = "auto"
    tensor_parallel_size: int = 1
    data_parallel_size: int = 1
    # OpenAI-compatible servers
    api: str | None = None  # "chat" | "completions"; default from the template
    served_model: str | None = None
    tokenizer: str | None = None
    concurrency: int = 16
    timeout: float = 600.0
    retries: int = 6
    backoff: float = 0.5  # seconds before the first retry; doubles each time
    api_key_env: str | None = None
    # Engine knobs passed through to vLLM's LLM(...) as-is (max_model_len, gpu_memory_utilization, ...)
    engine_args: dict[str, Any] = field(default_factory=dict)
    # Per-model overrides of [sampling] and [prompt]
    sampling: SamplingParams | None = None
    prompt: PromptSpec | None = None

    @property
    def location(self) -> str | None:
        return self.path if self.backend != "openai" else ",".join(self.endpoints)


@dataclass
class SampleConfig:
    models: list[ModelSpec] = field(default_factory=list)
    problems: ProblemSelection = field(default_factory=ProblemSelection)
    prompt: PromptSpec = field(default_factory=PromptSpec)
    sampling: SamplingParams = field(default_factory=SamplingParams)
    #: Commit after this many samples (whole requests); a kill -9 loses at most this batch.
    commit_every: int = 0  # 0 = backend default
    source: str | None = None  # the TOML file it came from, for messages

    def sampling_for(self, m: ModelSpec) -> SamplingParams:
        return m.sampling or self.sampling

    def prompt_for(self, m: ModelSpec) -> PromptSpec:
        return m.prompt or self.prompt

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        for m in d["models"]:
            key = m.get("api_key_env")
            if key:
                m["api_key_env"] = key  # the variable's name only, never its value
        return d


# -- parsing ------------------------------------------------------------------------


def _where(source: str | None, name: str) -> str:
    return f"{source}: {name}" if source else name


def _check_keys(table: dict, allowed: set[str], source: str | None, where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise InputError(
            f"{_where(source, where)}: unknown field {unknown[0]!r} (known: {', '.join(sorted(allowed))})."
        )


def _typed(value: Any, kind: type | tuple, source: str | None, where: str):
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        name = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise InputError(f"{_where(source, where)}: expected {name}, got {value!r}.")
    return value


def _parse_sampling(t: dict, source: str | None, where: str, base: SamplingParams | None = None) -> SamplingParams:
    fields = {f.name: f.type for f in dataclasses.fields(SamplingParams)}
    _check_keys(t, set(fields), source, where)
    out = dataclasses.replace(base) if base else SamplingParams()
    for key, value in t.items():
        if key == "stop":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
                raise InputError(f"{_where(source, where + '.stop')}: expected a list of non-empty strings.")
        elif key in ("n", "max_tokens", "seed", "index_offset"):
            value = _typed(value, int, source, f"{where}.{key}")
        else:
            value = _typed(value, float, source, f"{where}.{key}")
        setattr(out, key, value)
    validate_sampling(out, source, where)
    return out


def validate_sampling(s: SamplingParams, source: str | None = None, where: str = "sampling") -> None:
    if s.n < 1:
        raise InputError(f"{_where(source, where + '.n')}: must be at least 1, got {s.n}.")
    if s.index_offset < 0:
        raise InputError(f"{_where(source, where + '.index_offset')}: must be >= 0, got {s.index_offset}.")
    if s.max_tokens < 1:
        raise InputError(f"{_where(source, where + '.max_tokens')}: must be at least 1, got {s.max_tokens}.")
    if s.temperature < 0:
        raise InputError(f"{_where(source, where + '.temperature')}: must be >= 0, got {s.temperature}.")
    if not 0 < s.top_p <= 1:
        raise InputError(f"{_where(source, where + '.top_p')}: must be in (0, 1], got {s.top_p}.")


def _parse_prompt(t: dict, source: str | None, where: str, base: PromptSpec | None = None) -> PromptSpec:
    _check_keys(t, {"template", "system"}, source, where)
    out = dataclasses.replace(base) if base else PromptSpec()
    if "template" in t:
        out.template = _typed(t["template"], str, source, f"{where}.template")
    if "system" in t:
        out.system = _typed(t["system"], str, source, f"{where}.system")
    validate_prompt(out, source, where)
    return out


def validate_prompt(p: PromptSpec, source: str | None = None, where: str = "prompt") -> None:
    if p.template not in BUILTIN_TEMPLATES and "{question}" not in p.template:
        raise InputError(
            f"{_where(source, where + '.template')}: {p.template!r} is neither a built-in "
            f"({', '.join(BUILTIN_TEMPLATES)}) nor a string containing {{question}}."
        )


_MODEL_KEYS = {
    "name", "role", "backend", "path", "endpoint", "endpoints", "dtype", "device", "tensor_parallel_size",
    "data_parallel_size", "api", "served_model", "tokenizer", "concurrency", "timeout", "retries",
    "backoff", "api_key_env", "engine_args", "sampling", "prompt",
}


def _parse_model(t: dict, i: int, cfg: SampleConfig, source: str | None) -> ModelSpec:
    where = f"models[{i}]"
    if not isinstance(t, dict):
        raise InputError(f"{_where(source, where)}: expected a table ([[models]]).")
    _check_keys(t, _MODEL_KEYS, source, where)
    if "name" not in t:
        raise InputError(f"{_where(source, where + '.name')}: missing (every model needs a name).")
    m = ModelSpec(name=_typed(t["name"], str, source, f"{where}.name"))
    for key in ("role", "backend", "path", "dtype", "device", "api", "served_model", "tokenizer", "api_key_env"):
        if key in t:
            setattr(m, key, _typed(t[key], str, source, f"{where}.{key}"))
    for key in ("tensor_parallel_size", "data_parallel_size", "concurrency", "retries"):
        if key in t:
            setattr(m, key, _typed(t[key], int, source, f"{where}.{key}"))
    for key in ("timeout", "backoff"):
        if key in t:
            setattr(m, key, _typed(t[key], float, source, f"{where}.{key}"))
    for key in ("endpoint", "endpoints"):
        if key in t:
            v = t[key]
            v = [v] if isinstance(v, str) else v
            if not isinstance(v, list) or not v or not all(isinstance(e, str) for e in v):
                raise InputError(f"{_where(source, f'{where}.{key}')}: expected a URL or a list of URLs.")
            m.endpoints = list(v)
    if "engine_args" in t:
        m.engine_args = dict(_typed(t["engine_args"], dict, source, f"{where}.engine_args"))
    if "sampling" in t:
        m.sampling = _parse_sampling(_typed(t["sampling"], dict, source, f"{where}.sampling"), source, f"{where}.sampling", cfg.sampling)
    if "prompt" in t:
        m.prompt = _parse_prompt(_typed(t["prompt"], dict, source, f"{where}.prompt"), source, f"{where}.prompt", cfg.prompt)
    if "backend" not in t and m.endpoints:
        m.backend = "openai"
    validate_model(m, source, where)
    return m


def validate_model(m: ModelSpec, source: str | None = None, where: str = "model") -> None:
    if m.backend not in BACKENDS:
        raise InputError(f"{_where(source, where + '.backend')}: {m.backend!r} is not one of {', '.join(BACKENDS)}.")
    if m.backend == "openai":
        if not m.endpoints:
            raise InputError(f"{_where(source, where + '.endpoint')}: the openai backend needs an endpoint URL.")
        if m.api not in (None, "chat", "completions"):
            raise InputError(f"{_where(source, where + '.api')}: expected 'chat' or 'completions', got {m.api!r}.")
    elif not m.path:
        raise InputError(f"{_where(source, where + '.path')}: the {m.backend} backend needs a model path.")
    for key in ("tensor_parallel_size", "data_parallel_size", "concurrency"):
        if getattr(m, key) < 1:
            raise InputError(f"{_where(source, f'{where}.{key}')}: must be at least 1.")
    if m.dtype not in ("auto", "float32", "float16", "bfloat16"):
        raise InputError(f"{_where(source, where + '.dtype')}: expected auto, float32, float16 or bfloat16, got {m.dtype!r}.")


def parse_config(data: dict, source: str | None = None) -> SampleConfig:
    """Build a :class:`SampleConfig` from an already-parsed TOML document."""
    _check_keys(data, {"models", "problems", "prompt", "sampling", "commit_every"}, source, "top level")
    cfg = SampleConfig(source=source)
    if "sampling" in data:
        cfg.sampling = _parse_sampling(_typed(data["sampling"], dict, source, "sampling"), source, "sampling")
    if "prompt" in data:
        cfg.prompt = _parse_prompt(_typed(data["prompt"], dict, source, "prompt"), source, "prompt")
    if "problems" in data:
        t = _typed(data["problems"], dict, source, "problems")
        _check_keys(t, {"ids", "source", "limit"}, source, "problems")
        sel = ProblemSelection()
        if "ids" in t:
            ids = t["ids"]
            if not isinstance(ids, list) or not all(isinstance(x, (str, int)) for x in ids):
                raise InputError(f"{_where(source, 'problems.ids')}: expected a list of problem ids.")
            sel.ids = [str(x) for x in ids]
        if "source" in t:
            sel.source = _typed(t["source"], str, source, "problems.source")
        if "limit" in t:
            sel.limit = _typed(t["limit"], int, source, "problems.limit")
        cfg.problems = sel
    if "commit_every" in data:
        cfg.commit_every = _typed(data["commit_every"], int, source, "commit_every")
    models = data.get("models", [])
    if not isinstance(models, list):
        raise InputError(f"{_where(source, 'models')}: expected an array of tables ([[models]]).")
    cfg.models = [_parse_model(t, i, cfg, source) for i, t in enumerate(models)]
    names = [m.name for m in cfg.models]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise InputError(f"{_where(source, 'models')}: the name {dup!r} is used twice.")
    return cfg


def load_config(path: str | os.PathLike) -> SampleConfig:
    """Read ``pathscope.toml``; syntax errors name the file and line."""
    import tomllib

    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"{path}: no such config file.") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc}).") from None
    if "sample" in data and isinstance(data["sample"], dict) and "models" not in data:
        data = data["sample"]  # allow a [sample] section in a shared pathscope.toml
    return parse_config(data, str(path))


def apply_overrides(cfg: SampleConfig, **flags: Any) -> SampleConfig:
    """Command-line flags win over the file.  ``None`` means "not given"."""
    s = dataclasses.replace(cfg.sampling)
    for key in ("n", "temperature", "top_p", "max_tokens", "seed", "index_offset"):
        if flags.get(key) is not None:
            setattr(s, key, flags[key])
    if flags.get("stop"):
        s.stop = list(flags["stop"])
    validate_sampling(s, None, "--" + "sampling")
    cfg.sampling = s
    # Per-model sampling tables inherit the flags too: flags beat every file value.
    for m in cfg.models:
        if m.sampling is not None:
            for key in ("n", "temperature", "top_p", "max_tokens", "seed", "index_offset"):
                if flags.get(key) is not None:
                    setattr(m.sampling, key, flags[key])
            if flags.get("stop"):
                m.sampling.stop = list(flags["stop"])
    if flags.get("template") is not None:
        cfg.prompt.template = flags["template"]
        for m in cfg.models:
            if m.prompt is not None:
                m.prompt.template = flags["template"]
    if flags.get("system") is not None:
        cfg.prompt.system = flags["system"]
    validate_prompt(cfg.prompt, None, "--template")
    if flags.get("ids"):
        cfg.problems.ids = list(flags["ids"])
    if flags.get("source") is not None:
        cfg.problems.source = flags["source"]
    if flags.get("limit") is not None:
        cfg.problems.limit = flags["limit"]
    if flags.get("commit_every") is not None:
        cfg.commit_every = flags["commit_every"]
    if flags.get("model_path"):
        m = ModelSpec(
            name=flags.get("model_name") or Path(flags["model_path"]).name or flags["model_path"],
            role=flags.get("role") or "base",
            backend=flags.get("backend") or "transformers",
        )
        if m.backend == "openai":
            m.endpoints = [flags["model_path"]]
        else:
            m.path = flags["model_path"]
        cfg.models.append(m)
    only = flags.get("only_models")
    if only:
        known = {m.name for m in cfg.models}
        missing = [n for n in only if n not in known]
        if missing:
            raise InputError(f"--models: no model named {missing[0]!r} in the config (models: {', '.join(sorted(known)) or 'none'}).")
        cfg.models = [m for m in cfg.models if m.name in only]
    for m in cfg.models:
        for key in ("dtype", "device"):
            if flags.get(key) is not None:
                setattr(m, key, flags[key])
        if flags.get("backend") is not None and not flags.get("model_path"):
            m.backend = flags["backend"]
        if flags.get("tensor_parallel_size") is not None:
            m.tensor_parallel_size = flags["tensor_parallel_size"]
        if flags.get("data_parallel_size") is not None:
            m.data_parallel_size = flags["data_parallel_size"]
        validate_model(m, None, f"model {m.name!r}")
    if not cfg.models:
        raise InputError("no models to sample: give --config with [[models]] tables, or --model PATH.")
    return cfg
