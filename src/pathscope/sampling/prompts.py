"""Turn a problem into the exact prompt a model sees.

Built-in templates:

- ``qwen-boxed``: the paper's zero-shot prompt, shared by base and RL models —
  system "You are a helpful assistant.", user
  ``{question}\\nPlease reason step by step, and put your final answer within \\boxed{}.``
  — rendered through the tokenizer's chat template;
- ``chat``: the question as the user turn of the tokenizer's chat template,
  with an optional system prompt;
- ``raw``: the question text as it is;
- any other string containing ``{question}``: that string, with the question
  substituted (only ``{question}`` is replaced, so LaTeX braces are safe).

Prompts are tokenized here, once, and handed to every backend as token ids, so
that sampling and perplexity scoring see the very same tokens (no doubled BOS
from a chat template rendered as text and tokenized again).
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import PromptSpec

QWEN_BOXED_SYSTEM = "You are a helpful assistant."
QWEN_BOXED_USER = "{question}\nPlease reason step by step, and put your final answer within \\boxed{}."

# Used when a tokenizer has no chat template (many base models): ChatML, the
# format of the Qwen models the paper studies.
_CHATML = "{body}<|im_start|>assistant\n"


@dataclass(frozen=True)
class Prompt:
    text: str
    token_ids: list[int] | None
    messages: list[dict] | None


def messages_for(spec: PromptSpec, question: str) -> list[dict] | None:
    """The chat messages of a chat-style template, else None."""
    if spec.template == "qwen-boxed":
        system = spec.system if spec.system is not None else QWEN_BOXED_SYSTEM
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": QWEN_BOXED_USER.replace("{question}", question)},
        ]
    if spec.template == "chat":
        msgs = [{"role": "system", "content": spec.system}] if spec.system else []
        return msgs + [{"role": "user", "content": question}]
    return None


def _chatml(messages: list[dict]) -> str:
    body = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return _CHATML.format(body=body)


def render(spec: PromptSpec, question: str, tokenizer=None) -> Prompt:
    """The prompt for one question; token ids when a tokenizer is given."""
    messages = messages_for(spec, question)
    if messages is not None:
        if tokenizer is not None and getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        else:
            text = _chatml(messages)
        special = False  # the template already holds any BOS it wants
    elif spec.template == "raw":
        text, special = question, True
    else:
        text, special = spec.template.replace("{question}", question), True
    ids = None
    if tokenizer is not None:
        ids = list(tokenizer(text, add_special_tokens=special)["input_ids"])
    return Prompt(text=text, token_ids=ids, messages=messages)


def describe(spec: PromptSpec, tokenizer=None) -> dict:
    """What the run records about the prompt, enough to rebuild it."""
    out = {"template": spec.template, "system": spec.system}
    if spec.template == "qwen-boxed":
        out["system"] = spec.system if spec.system is not None else QWEN_BOXED_SYSTEM
        out["user"] = QWEN_BOXED_USER
    if messages_for(spec, "") is not None:
        has = tokenizer is not None and bool(getattr(tokenizer, "chat_template", None))
        out["chat_template"] = "tokenizer" if has else ("chatml-fallback" if tokenizer is not None else "server")
    return out


def from_description(d: dict | None) -> PromptSpec:
    """Rebuild the :class:`PromptSpec` a model was sampled with (for scoring)."""
    if not d:
        return PromptSpec()
    return PromptSpec(template=d.get("template", "qwen-boxed"), system=d.get("system"))
