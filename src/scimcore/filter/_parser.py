"""Parsing filters and PATCH paths: ``grammar.lark`` plus a Transformer that builds the AST.

Theory of operation:

1. ``grammar.lark`` (package data) is compiled once by Lark into LALR(1) tables, with the
   :class:`_Builder` transformer as the reduction callbacks: the AST is built while parsing,
   and no parse tree is ever made.
2. A valid attribute expression (``userName eq "x"``) is one token, ``ATTR_EXP``: the rule is
   regular, so lexing it whole leaves the parser a handful of tokens per filter. The grammar
   is written so that, on valid text, the first terminal (in priority order) to match is the
   right one everywhere: one regular expression lexes it, without context.
3. :func:`_drive` runs Lark's tables and callbacks over that lexer with a short loop (Lark's
   own ``feed_token`` without interactive parsing and error recovery). Any failure there
   hands the text to Lark's contextual parser on the same grammar, which knows what each
   state expects: it either parses the text after all or raises the error that the message
   is made from, with the source and the span of the fault. Lark's exceptions never escape.
4. The grammar accepts the interop forms and the SCIM 2.0-only constructs; whether the
   caller's :class:`~scimcore.policy.Policy` and ``version`` allow them is checked by the
   builder, which reads them from a context variable set for the duration of one parse (so
   the tables are shared safely between threads and tasks).
5. Semantic faults found while building (a second sub-attribute level, an unquoted value
   under a strict policy, a number out of range) are :class:`InvalidFilter` with a span too;
   a PATCH path outside its ``[…]`` fails with :class:`InvalidPath`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from functools import cache
from typing import Any, NoReturn

import attrs
from lark import Lark, Token, Transformer, v_args
from lark.common import LexerConf
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lexer import Lexer, LexerState
from lark.parsers.lalr_analysis import Shift

from scimcore.errors import InvalidFilter, InvalidPath, ScimError
from scimcore.filter._ast import (
    And,
    AttrPath,
    Compare,
    Filter,
    Not,
    Or,
    PatchPath,
    Present,
    Value,
    ValuePath,
)
from scimcore.filter._visit import walk
from scimcore.policy import Policy

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "parse_filter", "parse_path"]

#: The longest filter or path text accepted, in characters.
MAX_LENGTH = 10_000
#: The deepest nesting of parentheses accepted.
MAX_DEPTH = 64

_DEFAULT_POLICY = Policy()
_V2_OPERATORS = frozenset({"ne", "ew"})
_VERSION = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_NUMBERISH = re.compile(r"[-+.0-9][-+.0-9eE]*")
_SQ_ESCAPE = re.compile(r"\\(['\\])")
_LITERALS: dict[str, Value] = {"true": True, "false": False, "null": None}
_INF = float("inf")
_CHUNK = re.compile(r"[^ ()\[\]\"]+|.", re.DOTALL)
_STRING_EXTENT = re.compile(r'"(?:[^"\\]|\\.)*"?', re.DOTALL)
_JSON_STRING_OR_OTHER = re.compile(r'"(?:[^"\\]|\\.)*"?|[^"]+')


@attrs.frozen
class _Options:
    text: str
    version: int
    policy: Policy


_OPTIONS: ContextVar[_Options] = ContextVar("scimcore.filter.options")


def _fail(detail: str, start: int, end: int, cls: type[ScimError] | None = None) -> NoReturn:
    options = _OPTIONS.get()
    raise (cls or InvalidFilter)(detail, source=options.text, span=(start, end))


def _span(token: Token) -> tuple[int, int]:
    start = token.start_pos or 0
    return start, start + len(token)


def _attr_path(text: str, start: int, cls: type[ScimError] = InvalidFilter) -> AttrPath:
    if ":" not in text:
        name, _, sub = text.partition(".")
        if "." in sub:
            _fail(f"Sub-attributes nest one level only: '{text}'.", start, start + len(text), cls)
        return AttrPath(None, name, sub or None)
    urn, _, dotted = text.rpartition(":")
    name, _, sub = dotted.partition(".")
    options = _OPTIONS.get()
    if (
        sub
        and options.policy.urn_dot_separator
        and options.version == 2
        and name[:1].isupper()
        and urn.lower().startswith("urn:ietf:params:scim:schemas:")
        and _VERSION.fullmatch(urn.rpartition(":")[2])
    ):
        # Entra's legacy jobs send "urn:…:enterprise:2.0:User.manager" for
        # "urn:…:enterprise:2.0:User:manager". An RFC 7643 schema URN ends with a resource
        # name, never with a version, so the reading is unambiguous there.
        urn = f"{urn}:{name}"
        name, _, sub = sub.partition(".")
    if "." in sub:
        _fail(f"Sub-attributes nest one level only: '{text}'.", start, start + len(text), cls)
    return AttrPath(urn, name, sub or None)


def _operator(text: str, start: int) -> str:
    op = text.lower()
    if op in _V2_OPERATORS and _OPTIONS.get().version == 1:
        _fail(f"The operator '{op}' is not part of SCIM 1.1 filters.", start, start + 2)
    return op


def _value(text: str, start: int) -> Value:
    first = text[0]
    if first == '"':
        return text[1:-1] if "\\" not in text else str(json.loads(text))
    if text in _LITERALS:
        return _LITERALS[text]
    if _number().fullmatch(text):
        try:
            if "." in text or "e" in text or "E" in text:
                number = float(text)
                if number in (_INF, -_INF):
                    raise ValueError(text)
                return number
            return int(text)
        except ValueError:
            _fail(f"The number {text} is out of range.", start, start + len(text))
    if _NUMBERISH.fullmatch(text):
        _fail(f"Invalid number '{text}'.", start, start + len(text))
    if not _OPTIONS.get().policy.unquoted_filter_values:
        _fail(f"A string must be in double quotes: {text}.", start, start + len(text))
    if first == "'":
        return _SQ_ESCAPE.sub(r"\1", text[1:-1])
    return text


def _expression(text: str, start: int) -> Filter:
    """``attrPath SP "pr"`` or ``attrPath SP compareOp SP compValue``, already lexed whole."""
    path, _, rest = text.partition(" ")
    rest = rest.lstrip(" ")
    op, _, value = rest.partition(" ")
    attr = _attr_path(path, start)
    if not value:
        return Present(attr)
    value = value.lstrip(" ")
    op_start = start + len(text) - len(rest)
    return Compare(attr, _operator(op, op_start), _value(value, start + len(text) - len(value)))


def _v2_only(what: str, start: int, end: int) -> None:
    if _OPTIONS.get().version == 1:
        _fail(f"{what} is not part of SCIM 1.1 filters.", start, end)


def _relative_paths(node: Filter) -> bool:
    """Every path in ``node`` (the filter inside ``[…]``) is a bare sub-attribute name."""
    return all(
        term.path.urn is None and term.path.sub is None
        for term in walk(node)
        if isinstance(term, Compare | Present)
    )


def _value_path(token: Token, inner: Filter, cls: type[ScimError]) -> tuple[AttrPath, Filter]:
    start, end = _span(token)
    _v2_only("'[…]'", end - 1, end)
    path = _attr_path(token[:-1], start, cls)
    if path.sub is not None:
        _fail(f"'[…]' follows an attribute, not a sub-attribute: '{path}'.", start, end - 1, cls)
    if not _relative_paths(inner):
        # Find the culprit's position: the first attrExp after "[" whose path is qualified.
        found = next(
            t
            for t in _Lexer.regex.finditer(_OPTIONS.get().text, end)
            if t.lastgroup == "ATTR_EXP" and any(c in t.group().partition(" ")[0] for c in ":.")
        )
        name, begin = found.group().partition(" ")[0], found.start()
        detail = f"Inside '[…]' a path is a sub-attribute name, not '{name}'."
        _fail(detail, begin, begin + len(name))
    return path, inner


@v_args(inline=True)
class _Builder(Transformer[Token, Any]):
    """Builds AST nodes bottom-up as the LALR parser reduces each rule."""

    def ATTR_EXP(self, token: Token) -> Filter:  # noqa: N802 - a terminal callback
        return _expression(str(token), token.start_pos or 0)

    def filter(self, *operands: Filter) -> Filter:
        return Or(operands)

    def and_expr(self, *operands: Filter) -> Filter:
        return And(operands)

    v_or = filter
    v_and = and_expr

    def not_(self, keyword: Token, operand: Filter) -> Filter:
        _v2_only("'not'", *_span(keyword))
        return Not(operand)

    def bare_not(self, keyword: Token, operand: Filter) -> Filter:
        if not _OPTIONS.get().policy.not_without_parentheses:
            _fail("'not' takes its operand in parentheses: not (…).", *_span(keyword))
        return self.not_(keyword, operand)

    def value_path(self, token: Token, inner: Filter) -> Filter:
        return ValuePath(*_value_path(token, inner, InvalidFilter))

    def suffix(self, token: Token, inner: Filter, suffix: Token) -> Filter:
        start = suffix.start_pos or 0
        if not _OPTIONS.get().policy.filter_value_path_suffix:
            name = suffix.partition(" ")[0]
            _fail(f"A filter cannot follow '[…]' with '{name}'.", start, start + len(name))
        path, inner = _value_path(token, inner, InvalidFilter)
        return ValuePath(path, And((inner, _expression(suffix[1:], start + 1))))

    def path_attr(self, token: Token) -> PatchPath:
        return PatchPath(_attr_path(str(token), token.start_pos or 0, InvalidPath))

    def path_value(self, token: Token, inner: Filter, sub: Token | None) -> PatchPath:
        path, inner = _value_path(token, inner, InvalidPath)
        return PatchPath(path, inner, None if sub is None else str(sub[1:]))

    def attr_exp(self, *children: object) -> NoReturn:  # pragma: no cover
        # Only reached on input the ATTR_EXP token does not match, which then fails to parse.
        raise AssertionError("a valid attrExp is lexed as one ATTR_EXP token")


class _Lexer(Lexer):
    """All terminals as one regular expression, tried in priority order; no context.

    The grammar is written so that, on valid input, the first terminal to match is the right
    one wherever it occurs. On a mismatch the text is parsed again with Lark's contextual
    lexer, which knows what each parser state expects and so reports errors precisely.
    """

    __future_interface__ = 2
    regex: re.Pattern[str]
    match: Callable[[str, int, int], re.Match[str] | None]

    def __init__(self, conf: LexerConf) -> None:
        terminals = sorted(
            conf.terminals,
            key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name),
        )
        _Lexer.regex = re.compile(
            "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals)
        )
        _Lexer.match = _Lexer.regex.match

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:
        # Never called: parse_filter drives Lark's tables itself (see _drive).
        raise NotImplementedError  # pragma: no cover


_new_token: Callable[[str, str, int], Token] = Token._future_new  # no deprecation shim


class _NoMatch(Exception):
    """The fast lexer found no terminal; the contextual lexer will say why."""


def _build(lexer: type[Lexer] | str) -> Lark:
    return Lark.open_from_package(
        "scimcore.filter",
        "grammar.lark",
        parser="lalr",
        lexer=lexer,
        transformer=_Builder(),
        start=["filter", "path", "filter_text", "path_text"],
        maybe_placeholders=True,
    )


@cache
def _parser() -> Lark:
    return _build(_Lexer)


class _Tables:
    """Lark's LALR tables for one start symbol, rearranged for :func:`_drive`.

    ``actions[state][symbol]`` is ``(True, next_state)`` for a shift and ``(False, rule)``
    for a reduce; ``rules[rule]`` is ``(length, origin, callback)``; the callbacks are
    the ones Lark made from :class:`_Builder` (the same the checking parser runs).
    """

    def __init__(self, lark: Lark, start: str) -> None:
        parser = lark.parser.parser.parser
        table = parser.parse_table
        self.start = table.start_states[start]
        self.end = table.end_states[start]
        self.rules: dict[int, tuple[int, str, Callable[[list[Any]], Any]]] = {}
        numbers: dict[Any, int] = {}
        self.actions: dict[int, dict[str, tuple[bool, int]]] = {}
        for state, actions in table.states.items():
            row: dict[str, tuple[bool, int]] = {}
            for symbol, (action, arg) in actions.items():
                if action is Shift:
                    row[str(symbol)] = (True, arg)
                else:
                    if arg not in numbers:
                        assert arg.expansion, "_drive assumes no empty rule"
                        numbers[arg] = len(numbers)
                        self.rules[numbers[arg]] = (
                            len(arg.expansion),
                            str(arg.origin.name),
                            parser.callbacks[arg],
                        )
                    row[str(symbol)] = (False, numbers[arg])
            self.actions[state] = row
        self.terminal_callbacks = {
            name: callback for name, callback in parser.callbacks.items() if isinstance(name, str)
        }


@cache
def _tables(start: str) -> _Tables:
    return _Tables(_parser(), start)


def _drive(tables: _Tables, text: str, begin: int, end: int) -> Any:
    """Run the LALR automaton on the fast lexer's tokens; :class:`_NoMatch` on any error.

    This is Lark's own parser loop (``ParserState.feed_token``) without what scimcore does
    not use (interactive parsing, error recovery), over the same tables and callbacks.
    """
    actions, rules, terminal_callbacks = tables.actions, tables.rules, tables.terminal_callbacks
    states = [tables.start]
    values: list[Any] = []
    match = _Lexer.match
    position = begin
    while True:
        if position < end:
            found = match(text, position, end)
            if found is None:
                raise _NoMatch
            kind = found.lastgroup or ""
            stop = found.end()
            token = _new_token(kind, found.group(), position)
            position = stop
        else:
            kind, token = "$END", None
        while True:
            action = actions[states[-1]].get(kind)
            if action is None:
                raise _NoMatch
            shift, argument = action
            if shift:
                states.append(argument)
                callback = terminal_callbacks.get(kind)
                values.append(token if callback is None else callback(token))
                break
            size, origin, reduce = rules[argument]  # no rule is empty: size > 0
            children = values[-size:]
            del values[-size:]
            del states[-size:]
            values.append(reduce(children))
            states.append(actions[states[-1]][origin][1])
            if token is None and states[-1] == tables.end:
                return values[-1]


@cache
def _checking_parser() -> Lark:
    return _build("contextual")


@cache
def _number() -> re.Pattern[str]:
    return re.compile(_parser().get_terminal("NUMBER").pattern.to_regexp())


@cache
def grammar() -> Lark:
    """The filter and path grammar as a :class:`lark.Lark` instance that builds trees.

    Start symbols are ``filter`` and ``path``; this is what
    ``hypothesis.extra.lark.from_lark`` takes.

    >>> grammar().parse('title pr', start="filter")
    Token('ATTR_EXP', 'title pr')
    """
    return Lark.open_from_package(
        "scimcore.filter", "grammar.lark", parser="lalr", start=["filter", "path"]
    )


# What each terminal means in an error message, in the order they are listed.
_EXPECTED = {
    "ATTRPATH": "an attribute",
    "NOT": "'not'",
    "LPAR": "'('",
    "OP": "an operator",
    "PR": "an operator",
    "STRING": "a value",
    "NUMBER": "a value",
    "TRUE": "a value",
    "FALSE": "a value",
    "NULL": "a value",
    "BAREWORD": "a value",
    "SQ_STRING": "a value",
    "LSQB": "'['",
    "SUBATTR": "a sub-attribute ('.name')",
    "_AND": "'and'",
    "_OR": "'or'",
    "RPAR": "')'",
    "RSQB": "']'",
    "_SP": "a space",
    "$END": "the end",
    "<END-OF-FILE>": "the end",
}


# What must follow a token when only a space was expected after it.
_NEXT = {"OP": "a space and a value", "ATTRPATH": "a space and an operator"}


def _expected(names: set[str]) -> str:
    if len(names) > 1:
        names = names - {"_SP"}  # spaces are allowed in many places; name what matters
    words = list(dict.fromkeys(_EXPECTED[n] for n in _EXPECTED if n in names))
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} or {words[-1]}"


def _inside_brackets(text: str, position: int) -> bool:
    depth = 0
    for chunk in _JSON_STRING_OR_OTHER.findall(text[:position]):
        if chunk[0] != '"':
            depth += chunk.count("[") - chunk.count("]")
    return depth > 0


def _syntax_error(exc: UnexpectedInput, text: str, what: str, cls: type[ScimError]) -> ScimError:
    last: Token | None
    if isinstance(exc, UnexpectedCharacters):
        start: int = exc.pos_in_stream or 0
        match = _CHUNK.match(text, start)
        assert match is not None
        found: str | None = match.group()
        expected = set(exc.allowed or ())
        last = exc.token_history[-1] if exc.token_history else None
    else:
        assert isinstance(exc, UnexpectedToken)
        token = exc.token
        expected = set(exc.accepts or exc.expected)
        stack = exc.state.value_stack if exc.state is not None else []
        last = stack[-1] if stack and isinstance(stack[-1], Token) else None
        if token.type == "$END":
            found, start = None, len(text)
            if last is not None and last.type in ("_AND", "_OR"):
                keyword = last.strip(" ")
                begin = (last.start_pos or 0) + len(last) - len(last.lstrip(" "))
                detail = f"'{keyword}' needs a filter on each side."
                return cls(detail, source=text, span=(begin, begin + len(keyword)))
        else:
            found = str(token).strip(" ") or str(token)
            start = (token.start_pos or 0) + len(token) - len(token.lstrip(" "))
    if cls is InvalidPath and _inside_brackets(text, start):
        cls = InvalidFilter
    wanted = _expected(expected)
    if expected == {"_SP"} and last is not None and last.type in _NEXT:
        wanted = _NEXT[last.type]
    if found is None:
        detail = f"Unexpected end of {what}; expected {wanted}."
        return cls(detail, source=text, span=(start, start + 1))
    end = start + len(found)
    if "OP" in expected and found[:1].isalpha():
        detail = f"Unknown operator '{found}'."
    elif found == '"':
        string = _STRING_EXTENT.match(text, start)
        assert string is not None
        end = string.end()
        if string.group().endswith('"') and end - start > 1:
            detail = "Invalid JSON string (RFC 7159 §7: escapes and control characters)."
        else:
            detail = "The string has no closing quote."
    elif found == "[" and _inside_brackets(text, start):
        detail = "'[…]' cannot be nested inside '[…]'."
    elif found.lower() in ("and", "or") and not text[end:].strip(" "):
        detail = f"'{found}' needs a filter on each side."
    else:
        detail = f"Unexpected '{found}'; expected {wanted}."
    return cls(detail, source=text, span=(start, end))


def _too_deep(text: str) -> int | None:
    depth = 0
    for match in _JSON_STRING_OR_OTHER.finditer(text):
        chunk = match.group()
        if chunk[0] == '"':
            continue
        for offset, char in enumerate(chunk):
            if char == "(":
                depth += 1
                if depth > MAX_DEPTH:
                    return match.start() + offset
            elif char == ")":
                depth -= 1
    return None


#: Texts parsed lately (the nodes are immutable): a client paging through a listing sends
#: its filter with every page, pollers repeat theirs, PATCH paths recur. A miss costs one
#: dict lookup. Bounded in count and in the length of a text kept.
_PARSED: dict[tuple[str, str, int, Policy], Any] = {}
_CACHED_COUNT = 512
_CACHED_LENGTH = 1024


def _parse(
    text: object, start: str, version: int, policy: Policy | None, cls: type[ScimError]
) -> Any:
    what = "filter" if start == "filter" else "path"
    if not isinstance(text, str):
        raise cls(f"The {what} must be a string, not {type(text).__name__}.")
    if len(text) > MAX_LENGTH:
        raise cls(f"The {what} is longer than {MAX_LENGTH} characters.")
    if not text.strip(" "):
        raise cls(f"The {what} is empty.", source=text, span=(0, len(text)))
    if text.count("(") > MAX_DEPTH:
        position = _too_deep(text)
        if position is not None:
            raise cls(
                f"The {what} nests parentheses more than {MAX_DEPTH} deep.",
                source=text,
                span=(position, position + 1),
            )
    policy = policy or _DEFAULT_POLICY
    key = (text, start, version, policy)
    parsed = _PARSED.get(key)
    if parsed is not None:
        return parsed
    begin = len(text) - len(text.lstrip(" "))
    end = len(text.rstrip(" "))
    token = _OPTIONS.set(_Options(text, version, policy))
    try:
        try:
            parsed = _drive(_tables(start), text, begin, end)
        except _NoMatch:
            try:
                parsed = _checking_parser().parse(text, start=f"{start}_text")
            except UnexpectedInput as exc:
                raise _syntax_error(exc, text, what, cls) from None
    finally:
        _OPTIONS.reset(token)
    if len(text) <= _CACHED_LENGTH:
        if len(_PARSED) >= _CACHED_COUNT:
            _PARSED.clear()
        _PARSED[key] = parsed
    return parsed


def parse_filter(text: str, *, version: int = 2, policy: Policy | None = None) -> Filter:
    """Parse a SCIM filter (RFC 7644 §3.4.2.2) into its AST.

    ``version=1`` is the SCIM 1.1 dialect: no ``ne``, ``ew``, ``not`` or ``[…]``.
    ``policy`` (default :meth:`Policy.interop`) decides which interop forms are
    accepted. Names are case-insensitive; ``str()`` of the result is canonical.

    Raises:
        InvalidFilter: the text is not a filter; ``str()`` of the error shows where.

    >>> parse_filter('userName Eq "bjensen" and not (emails co "example.com")')
    And((Compare(AttrPath(None, 'userName', None), 'eq', 'bjensen'), \
Not(Compare(AttrPath(None, 'emails', None), 'co', 'example.com'))))
    >>> str(parse_filter('emails[type eq "work"].value eq "a@b.c"'))
    'emails[type eq "work" and value eq "a@b.c"]'
    >>> print(parse_filter('userName regex "x"'))
    Traceback (most recent call last):
      ...
    scimcore.errors.InvalidFilter: Unknown operator 'regex'.
      userName regex "x"
               ^^^^^
    """
    if version not in (1, 2):
        raise ValueError(f"version must be 1 or 2, not {version!r}")
    result: Filter = _parse(text, "filter", version, policy, InvalidFilter)
    return result


def parse_path(text: str, *, policy: Policy | None = None) -> PatchPath:
    """Parse a PATCH ``path`` (RFC 7644 §3.5.2): ``attrPath`` or ``valuePath [subAttr]``.

    Raises:
        InvalidPath: the path is malformed.
        InvalidFilter: the filter inside ``[…]`` is malformed (RFC 7644 Table 9).

    >>> parse_path('members[value eq "2819c223"].display')
    PatchPath(AttrPath(None, 'members', None), \
Compare(AttrPath(None, 'value', None), 'eq', '2819c223'), 'display')
    >>> str(parse_path("NAME.familyName"))
    'NAME.familyName'
    """
    result: PatchPath = _parse(text, "path", 2, policy, InvalidPath)
    return result
