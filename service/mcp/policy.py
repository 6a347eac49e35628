"""Rules that decide a tool call without asking anyone: `Tool` or `Tool(pattern)`.

A rule names a tool, and optionally a shell-style pattern (fnmatch) for the call's main
argument: `command` for shell tools, else `file_path`, `path` or `url`, else the whole
input as JSON with sorted keys (`{"a": 1, "b": "x"}`). Of the rules that match, a deny rule
wins over an ask rule, an ask rule over an allow rule; a call no rule matches asks a person.

An allow rule never matches a shell command that chains, substitutes or redirects
(`;`, `&`, `|`, backticks, `$(`, `<`, `>`, a line break): `Bash(git status*)` must not let
`git status; rm -rf ~` through, so such a command is asked (or denied by a deny rule).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal

# The input fields a pattern is matched against, in the order they are looked for.
MAIN_ARGUMENTS = ("command", "file_path", "path", "url")
# What lets one shell command line run more than the command it starts with.
_SHELL_COMPOSITION = re.compile(r"[;&|`<>\n\r]|\$\(")
_RULE = re.compile(r"(?P<tool>[A-Za-z0-9_.:\-]+)(?:\((?P<pattern>.*)\))?", re.DOTALL)

Behavior = Literal["allow", "ask", "deny"]


class RuleError(ValueError):
    """A rule is not `Tool` or `Tool(pattern)`; the message shows it."""


@dataclass(frozen=True)
class Rule:
    text: str
    tool: str
    pattern: str | None

    @classmethod
    def parse(cls, text: str) -> Rule:
        stripped = text.strip()
        found = _RULE.fullmatch(stripped)
        if found is None:
            raise RuleError(f"{text!r} is not a rule: write Tool or Tool(pattern), e.g. Bash(git status*)")
        return cls(stripped, found["tool"], found["pattern"])

    def matches(self, tool: str, tool_input: dict[str, Any]) -> bool:
        if tool != self.tool:
            return False
        return self.pattern is None or fnmatchcase(main_argument(tool_input), self.pattern)


@dataclass(frozen=True)
class Outcome:
    behavior: Behavior
    rule: Rule | None

    @property
    def actor(self) -> str:
        """Who the audit trail says decided: the rule, with its kind."""
        return f"rule {self.behavior} {self.rule.text}" if self.rule else "nobody"


@dataclass(frozen=True)
class Policy:
    allow: tuple[Rule, ...] = ()
    ask: tuple[Rule, ...] = ()
    deny: tuple[Rule, ...] = ()

    @classmethod
    def from_texts(cls, allow: tuple[str, ...], ask: tuple[str, ...], deny: tuple[str, ...]) -> Policy:
        return cls(*(tuple(Rule.parse(text) for text in texts) for texts in (allow, ask, deny)))

    def decide(self, tool: str, tool_input: dict[str, Any]) -> Outcome:
        return decide_by_rules(tool, tool_input, allow=self.allow, ask=self.ask, deny=self.deny)


def decide_by_rules(
    tool: str,
    tool_input: dict[str, Any],
    *,
    allow: list[Rule] | tuple[Rule, ...],
    ask: list[Rule] | tuple[Rule, ...],
    deny: list[Rule] | tuple[Rule, ...],
) -> Outcome:
    """The first matching rule of the strongest kind; ask, with no rule, when none matches."""
    behaviors: tuple[tuple[Behavior, list[Rule] | tuple[Rule, ...]], ...] = (
        ("deny", deny),
        ("ask", ask),
        ("allow", allow),
    )
    composed = _composes_commands(tool_input)
    for behavior, rules in behaviors:
        if behavior == "allow" and composed:
            continue
        for rule in rules:
            if rule.matches(tool, tool_input):
                return Outcome(behavior, rule)
    return Outcome("ask", None)


def _composes_commands(tool_input: dict[str, Any]) -> bool:
    command = tool_input.get("command")
    return isinstance(command, str) and _SHELL_COMPOSITION.search(command) is not None


def main_argument(tool_input: dict[str, Any]) -> str:
    for name in MAIN_ARGUMENTS:
        value = tool_input.get(name)
        if isinstance(value, str):
            return value
    return json.dumps(tool_input, sort_keys=True, ensure_ascii=False)
