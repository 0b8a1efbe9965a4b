#!/usr/bin/env python3
"""Reference chat-template renderings: Jinja2 configured as Hugging Face's
apply_chat_template (transformers' _compile_jinja_template): an ImmutableSandboxedEnvironment
with trim_blocks=True, lstrip_blocks=True, the loopcontrols extension, raise_exception and a
tojson filter that keeps non-ASCII (ensure_ascii=False).

Usage: render_reference.py TEMPLATE_FILE CONVERSATIONS_JSON BOS EOS
Prints a JSON array with one rendering per conversation.
"""
import json
import sys

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


template_file, conversations_file, bos, eos = sys.argv[1:5]
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
with open(template_file, encoding="utf-8") as f:
    template = env.from_string(f.read())
with open(conversations_file, encoding="utf-8") as f:
    conversations = json.load(f)
out = [template.render(messages=c["messages"], add_generation_prompt=c["add_generation_prompt"],
                       bos_token=bos, eos_token=eos) for c in conversations]
json.dump(out, sys.stdout, ensure_ascii=False)
