"""Parsing filters and PATCH paths: RFC 7644 examples, acceptance cases, errors.

T-numbers (T001–T026) label the project's acceptance cases for the grammar (RFC 7644
§3.4.2.2 and §3.5.2, errata applied; docs/filters.md).
"""

from __future__ import annotations

import pytest

from scimcore import InvalidFilter, InvalidPath, Policy
from scimcore.errors import ScimError
from scimcore.filter import (
    MAX_DEPTH,
    MAX_LENGTH,
    And,
    AttrPath,
    Compare,
    Not,
    Or,
    PatchPath,
    Present,
    ValuePath,
    parse_filter,
    parse_path,
)

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
STRICT = Policy.strict()


def p(name: str, sub: str | None = None, urn: str | None = None) -> AttrPath:
    return AttrPath(urn, name, sub)


def error(text: str, **kwargs: object) -> str:
    with pytest.raises(InvalidFilter) as caught:
        parse_filter(text, **kwargs)  # type: ignore[arg-type]
    return str(caught.value)


# RFC 7644 §3.4.2.2, Figure 2 ("Example Filters"), with the canonical text of each.
FIGURE_2 = [
    ('userName eq "bjensen"', 'userName eq "bjensen"'),
    ('name.familyName co "O\'Malley"', 'name.familyName co "O\'Malley"'),
    ('userName sw "J"', 'userName sw "J"'),
    (f'{CORE_USER}:userName sw "J"', f'{CORE_USER}:userName sw "J"'),
    ("title pr", "title pr"),
    ('meta.lastModified gt "2011-05-13T04:42:34Z"', 'meta.lastModified gt "2011-05-13T04:42:34Z"'),
    ('meta.lastModified ge "2011-05-13T04:42:34Z"', 'meta.lastModified ge "2011-05-13T04:42:34Z"'),
    ('meta.lastModified lt "2011-05-13T04:42:34Z"', 'meta.lastModified lt "2011-05-13T04:42:34Z"'),
    ('meta.lastModified le "2011-05-13T04:42:34Z"', 'meta.lastModified le "2011-05-13T04:42:34Z"'),
    ('title pr and userType eq "Employee"', 'title pr and userType eq "Employee"'),
    ('title pr or userType eq "Intern"', 'title pr or userType eq "Intern"'),
    (f'schemas eq "{ENTERPRISE}"', f'schemas eq "{ENTERPRISE}"'),
    (
        'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
        'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
    ),
    (
        'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
        'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
    ),
    (
        'userType eq "Employee" and (emails.type eq "work")',
        'userType eq "Employee" and emails.type eq "work"',
    ),
    (
        'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
        'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
    ),
    (
        'emails[type eq "work" and value co "@example.com"] or '
        'ims[type eq "xmpp" and value co "@foo.com"]',
        'emails[type eq "work" and value co "@example.com"] or '
        'ims[type eq "xmpp" and value co "@foo.com"]',
    ),
]

# RFC 7644 §3.5.2 (Figure 7 and the examples of §3.5.2.1–§3.5.2.3).
PATCH_PATHS = [
    ("members", PatchPath(p("members"))),
    ("name.familyName", PatchPath(p("name", "familyName"))),
    ('addresses[type eq "work"]', PatchPath(p("addresses"), Compare(p("type"), "eq", "work"))),
    (
        'members[value eq "2819c223-7f76-453a-919d-413861904646"]',
        PatchPath(p("members"), Compare(p("value"), "eq", "2819c223-7f76-453a-919d-413861904646")),
    ),
    (
        'members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName',
        PatchPath(
            p("members"),
            Compare(p("value"), "eq", "2819c223-7f76-453a-919d-413861904646"),
            "displayName",
        ),
    ),
    (
        'emails[type eq "work" and value ew "example.com"]',
        PatchPath(
            p("emails"),
            And((Compare(p("type"), "eq", "work"), Compare(p("value"), "ew", "example.com"))),
        ),
    ),
    (
        'addresses[type eq "work"].streetAddress',
        PatchPath(p("addresses"), Compare(p("type"), "eq", "work"), "streetAddress"),
    ),
    (f"{ENTERPRISE}:manager", PatchPath(p("manager", urn=ENTERPRISE))),
]


class TestRfcExamples:
    @pytest.mark.parametrize(("text", "canonical"), FIGURE_2)
    def test_figure_2_parses_and_round_trips(self, text: str, canonical: str) -> None:
        parsed = parse_filter(text, policy=STRICT)
        assert str(parsed) == canonical
        assert parse_filter(str(parsed), policy=STRICT) == parsed  # T025

    @pytest.mark.parametrize(("text", "expected"), PATCH_PATHS)
    def test_patch_paths(self, text: str, expected: PatchPath) -> None:
        assert parse_path(text, policy=STRICT) == expected
        assert parse_path(str(expected)) == expected


class TestAcceptance:
    def test_T001(self) -> None:
        assert parse_filter('userName eq "bjensen"') == Compare(p("userName"), "eq", "bjensen")

    def test_T002_names_and_operators_are_case_insensitive(self) -> None:
        assert parse_filter('userName Eq "john"') == parse_filter('Username eq "john"')

    def test_T003_keywords_are_case_insensitive(self) -> None:
        assert parse_filter('title pr AND userType eq "Employee"') == And(
            (Present(p("title")), Compare(p("userType"), "eq", "Employee"))
        )
        assert parse_filter("NOT (title pr)") == Not(Present(p("title")))
        assert parse_filter("a PR Or b pR") == Or((Present(p("a")), Present(p("b"))))

    def test_T004_and_binds_tighter_than_or(self) -> None:
        a, b, c = Present(p("a")), Present(p("b")), Present(p("c"))
        assert parse_filter("a pr or b pr and c pr") == Or((a, And((b, c))))
        assert parse_filter("a pr and b pr or c pr") == Or((And((a, b)), c))

    def test_T005_not_and_grouping(self) -> None:
        a, b, c = Present(p("a")), Present(p("b")), Present(p("c"))
        assert parse_filter("not (a pr) and b pr") == And((Not(a), b))
        assert parse_filter("(a pr or b pr) and c pr") == And((Or((a, b)), c))
        assert parse_filter("((a pr))") == a
        assert parse_filter("a pr and b pr and c pr") == And((a, b, c))

    def test_T006_not_with_or_without_a_space(self) -> None:
        assert parse_filter("not(a pr)") == parse_filter("not (a pr)") == Not(Present(p("a")))
        assert parse_filter("not  (  a pr  )") == Not(Present(p("a")))

    def test_T007_not_needs_parentheses_when_strict(self) -> None:
        assert error("not title pr", policy=STRICT) == (
            "'not' takes its operand in parentheses: not (…).\n  not title pr\n  ^^^"
        )
        assert parse_filter("not title pr") == Not(Present(p("title")))
        assert parse_filter('NOT emails[type eq "work"] and a pr') == And(
            (Not(ValuePath(p("emails"), Compare(p("type"), "eq", "work"))), Present(p("a")))
        )

    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ("true", True),
            ("false", False),
            ("null", None),
            ("42", 42),
            ("-1.5e3", -1500.0),
            ('"x"', "x"),
            ("0", 0),
            ("-0", 0),
            ("1E2", 100.0),
            ("0.25", 0.25),
        ],
    )
    def test_T008_json_literals(self, text: str, value: object) -> None:
        parsed = parse_filter(f"a eq {text}", policy=STRICT)
        assert isinstance(parsed, Compare)
        assert parsed.value == value
        assert type(parsed.value) is type(value)

    def test_T008_literals_are_case_sensitive(self) -> None:
        assert error("a eq True", policy=STRICT) == (
            "A string must be in double quotes: True.\n  a eq True\n       ^^^^"
        )
        assert parse_filter("a eq True") == Compare(p("a"), "eq", "True")

    def test_T009_unquoted_and_single_quoted_values(self) -> None:
        assert parse_filter("meta.resourceType eq User") == Compare(
            p("meta", "resourceType"), "eq", "User"
        )
        assert parse_filter("displayName sw 'Group'") == Compare(p("displayName"), "sw", "Group")
        assert parse_filter(r"a eq 'it\'s \\'") == Compare(p("a"), "eq", "it's \\")
        assert parse_filter("(meta.resourceType eq User) or (meta.resourceType eq Group)") == Or(
            (
                Compare(p("meta", "resourceType"), "eq", "User"),
                Compare(p("meta", "resourceType"), "eq", "Group"),
            )
        )
        assert parse_filter("members[value eq 123abc]") == ValuePath(
            p("members"), Compare(p("value"), "eq", "123abc")
        )
        assert error("meta.resourceType eq User", policy=STRICT) == (
            "A string must be in double quotes: User.\n"
            "  meta.resourceType eq User\n"
            "                       ^^^^"
        )
        assert error("displayName sw 'Group'", policy=STRICT) == (
            "A string must be in double quotes: 'Group'.\n"
            "  displayName sw 'Group'\n"
            "                 ^^^^^^^"
        )

    def test_T010_json_escapes(self) -> None:
        assert parse_filter(r'userName eq "a\"b\\c\u00e9\/\n\t"') == Compare(
            p("userName"), "eq", 'a"b\\cé/\n\t'
        )
        assert parse_filter(r'a co "\ufe00\"\n\t\\"') == Compare(p("a"), "co", '\ufe00"\n\t\\')

    @pytest.mark.parametrize("number", ["01", "+1", "1.", ".5", "1e", "-", "1e+", "1.5.5"])
    def test_T011_invalid_json_numbers(self, number: str) -> None:
        start = 5
        assert error(f"a eq {number}") == (
            f"Invalid number '{number}'.\n  a eq {number}\n  {' ' * start}{'^' * len(number)}"
        )

    def test_T012_unknown_operator(self) -> None:
        assert error('userName regex "x"') == (
            "Unknown operator 'regex'.\n  userName regex \"x\"\n           ^^^^^"
        )
        assert error('title prx "x"') == "Unknown operator 'prx'.\n  title prx \"x\"\n        ^^^"

    def test_T013_incomplete_expressions(self) -> None:
        assert error('title pr "x"') == (
            'Unexpected \'"x"\'; expected the end.\n  title pr "x"\n           ^^^'
        )
        assert error("title eq") == (
            "Unexpected end of filter; expected a space and a value.\n  title eq\n          ^"
        )
        assert error("title") == (
            "Unexpected end of filter; expected a space and an operator.\n  title\n       ^"
        )
        assert error('eq "x"') == 'Unexpected \'"x"\'; expected an operator.\n  eq "x"\n     ^^^'

    @pytest.mark.parametrize("text", ["", "   "])
    def test_T014_empty(self, text: str) -> None:
        with pytest.raises(InvalidFilter, match=r"^The filter is empty\."):
            parse_filter(text)

    def test_T015_unbalanced_and_trailing_garbage(self) -> None:
        assert error("(a pr") == ("Unexpected end of filter; expected ')'.\n  (a pr\n       ^")
        assert error('userName eq "x" )') == (
            "Unexpected ')'; expected the end.\n  userName eq \"x\" )\n                  ^"
        )
        assert error("emails[type pr") == (
            "Unexpected end of filter; expected 'and', 'or' or ']'.\n"
            "  emails[type pr\n"
            "                ^"
        )
        assert error("a pr)") == "Unexpected ')'; expected the end.\n  a pr)\n      ^"
        assert error("()") == ("Unexpected ')'; expected an attribute, 'not' or '('.\n  ()\n   ^")

    def test_T016_core_urn(self) -> None:
        assert parse_filter(f'{CORE_USER}:userName sw "J"') == Compare(
            p("userName", urn=CORE_USER), "sw", "J"
        )

    def test_T017_extension_urn_with_sub_attribute(self) -> None:
        parsed = parse_filter(f'{ENTERPRISE}:manager.value eq "x"')
        assert parsed == Compare(p("manager", "value", urn=ENTERPRISE), "eq", "x")

    def test_T018_upper_cased_urn_and_name(self) -> None:
        assert parse_filter(f'{CORE_USER.upper()}:USERNAME eq "x"') == Compare(
            p("userName", urn=CORE_USER), "eq", "x"
        )

    def test_T019_two_value_paths(self) -> None:
        parsed = parse_filter(FIGURE_2[-1][0])
        assert isinstance(parsed, Or)
        assert all(isinstance(o, ValuePath) for o in parsed.operands)

    def test_T020_no_nested_value_paths_but_full_logic_inside(self) -> None:
        assert error('emails[type eq "work" and emails[value pr]]') == (
            "'[…]' cannot be nested inside '[…]'.\n"
            '  emails[type eq "work" and emails[value pr]]\n'
            "                                  ^"
        )
        parsed = parse_filter('emails[not (type eq "work") and (value co "a" or value co "b")]')
        assert parsed == ValuePath(
            p("emails"),
            And(
                (
                    Not(Compare(p("type"), "eq", "work")),
                    Or((Compare(p("value"), "co", "a"), Compare(p("value"), "co", "b"))),
                )
            ),
        )

    def test_T021_dollar_ref(self) -> None:
        assert parse_filter('members[$ref eq "https://x/Users/1"]') == ValuePath(
            p("members"), Compare(p("$ref"), "eq", "https://x/Users/1")
        )
        assert parse_filter("manager.$ref pr") == Present(p("manager", "$ref"))

    def test_T022_one_sub_attribute_level(self) -> None:
        assert error('name.givenName.x eq "a"') == (
            "Sub-attributes nest one level only: 'name.givenName.x'.\n"
            '  name.givenName.x eq "a"\n'
            "  ^^^^^^^^^^^^^^^^"
        )

    def test_T023_value_path_followed_by_a_comparison(self) -> None:
        assert parse_filter('emails[type eq "work"].value eq "a@b.c"') == ValuePath(
            p("emails"),
            And((Compare(p("type"), "eq", "work"), Compare(p("value"), "eq", "a@b.c"))),
        )
        assert parse_filter('emails[type eq "work"].primary pr') == ValuePath(
            p("emails"), And((Compare(p("type"), "eq", "work"), Present(p("primary"))))
        )
        assert error('emails[type eq "work"].value eq "a@b.c"', policy=STRICT) == (
            "A filter cannot follow '[…]' with '.value'.\n"
            '  emails[type eq "work"].value eq "a@b.c"\n'
            "                        ^^^^^^"
        )

    @pytest.mark.parametrize(
        "name",
        [
            "order",
            "notes",
            "android",
            "prefix",
            "orgUnit",
            "never",
            "andrew",
            "prime",
            "notation",
            "or",
            "and",
            "not",
            "pr",
            "eq",
            "true",
            "null",
        ],
    )
    def test_T024_names_that_start_like_keywords(self, name: str) -> None:
        assert parse_filter(f"{name} pr and {name} eq 1") == And(
            (Present(p(name)), Compare(p(name), "eq", 1))
        )
        assert parse_filter(f"x pr or {name}[y pr]") == Or(
            (Present(p("x")), ValuePath(p(name), Present(p("y"))))
        )


class TestInterop:
    def test_urn_with_a_dot_before_the_attribute(self) -> None:
        expected = Compare(p("manager", urn=ENTERPRISE), "eq", "x")
        assert parse_filter(f'{ENTERPRISE}.manager eq "x"') == expected
        assert parse_filter(f"{ENTERPRISE}.manager.value pr") == Present(
            p("manager", "value", urn=ENTERPRISE)
        )
        # Only RFC 7643 URNs, whose last segment is never a version, are read this way.
        custom = "urn:example:schemas:Example:1.0"
        assert parse_filter(f"{custom}:Name.value pr") == Present(p("Name", "value", urn=custom))
        # Strict: the URN ends at the last colon, as written.
        assert parse_filter(f'{ENTERPRISE}.manager eq "x"', policy=STRICT) == Compare(
            AttrPath(ENTERPRISE.rpartition(":")[0], "User", "manager"), "eq", "x"
        )

    def test_entra_lookup_with_seven_digit_fractions(self) -> None:
        text = '(ActiVe eq true) and meta.lastmodified ge "2021-09-23T19:35:41.8420572Z"'
        assert str(parse_filter(text)) == (
            'ActiVe eq true and meta.lastmodified ge "2021-09-23T19:35:41.8420572Z"'
        )

    def test_spaces_around_the_text_and_inside_brackets(self) -> None:
        assert parse_filter('  emails[ type eq "work" ]  ') == ValuePath(
            p("emails"), Compare(p("type"), "eq", "work")
        )
        assert parse_filter("a  eq   1  and   b pr") == And(
            (Compare(p("a"), "eq", 1), Present(p("b")))
        )


class TestScim11:
    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("a ne 1", "The operator 'ne' is not part of SCIM 1.1 filters.\n  a ne 1\n    ^^"),
            (
                'a ew "x"',
                "The operator 'ew' is not part of SCIM 1.1 filters.\n  a ew \"x\"\n    ^^",
            ),
            ("not (a pr)", "'not' is not part of SCIM 1.1 filters.\n  not (a pr)\n  ^^^"),
            ("e[a pr]", "'[…]' is not part of SCIM 1.1 filters.\n  e[a pr]\n   ^"),
        ],
    )
    def test_scim_2_only_constructs(self, text: str, message: str) -> None:
        assert error(text, version=1) == message

    def test_the_rest_parses(self) -> None:
        text = 'userName sw "J" and (title pr or meta.lastModified gt "2011-05-13T04:42:34Z")'
        assert parse_filter(text, version=1) == parse_filter(text)

    def test_unknown_version(self) -> None:
        with pytest.raises(ValueError, match="version must be 1 or 2, not 3"):
            parse_filter("a pr", version=3)


class TestErrors:
    def test_strings(self) -> None:
        assert error(r'userName eq "bad\a"') == (
            "Invalid JSON string (RFC 7159 §7: escapes and control characters).\n"
            '  userName eq "bad\\a"\n'
            "              ^^^^^^^"
        )
        assert error('x eq "open') == (
            'The string has no closing quote.\n  x eq "open\n       ^^^^^'
        )
        assert error('x eq "') == 'The string has no closing quote.\n  x eq "\n       ^'

    def test_numbers_out_of_range(self) -> None:
        assert error("x eq 1e400") == (
            "The number 1e400 is out of range.\n  x eq 1e400\n       ^^^^^"
        )
        with pytest.raises(InvalidFilter, match="out of range"):
            parse_filter("x eq " + "9" * 5000)

    def test_dangling_logical_operators(self) -> None:
        assert error("a pr and") == "'and' needs a filter on each side.\n  a pr and\n       ^^^"
        assert error("a pr OR  ") == "'OR' needs a filter on each side.\n  a pr OR  \n       ^^"

    def test_paths_inside_brackets_are_sub_attribute_names(self) -> None:
        assert error("emails[value.x pr]") == (
            "Inside '[…]' a path is a sub-attribute name, not 'value.x'.\n"
            "  emails[value.x pr]\n"
            "         ^^^^^^^"
        )
        assert error('emails[type pr and (urn:a:b eq "x")]') == (
            "Inside '[…]' a path is a sub-attribute name, not 'urn:a:b'.\n"
            '  emails[type pr and (urn:a:b eq "x")]\n'
            "                      ^^^^^^^"
        )
        assert error("name.givenName[x pr]") == (
            "'[…]' follows an attribute, not a sub-attribute: 'name.givenName'.\n"
            "  name.givenName[x pr]\n"
            "  ^^^^^^^^^^^^^^"
        )

    def test_sub_attribute_depth_after_a_urn(self) -> None:
        assert error("urn:example:x.y.z pr") == (
            "Sub-attributes nest one level only: 'urn:example:x.y.z'.\n"
            "  urn:example:x.y.z pr\n"
            "  ^^^^^^^^^^^^^^^^^"
        )

    def test_many_parentheses_side_by_side_are_not_deep(self) -> None:
        text = " or ".join(["(a pr)"] * (MAX_DEPTH + 1))
        assert parse_filter(text) == Or(tuple([Present(p("a"))] * (MAX_DEPTH + 1)))

    def test_not_a_string(self) -> None:
        with pytest.raises(InvalidFilter, match=r"^The filter must be a string, not int\.$"):
            parse_filter(5)  # type: ignore[arg-type]

    def test_length_limit(self) -> None:
        text = " or ".join(["a pr"] * (MAX_LENGTH // 8 + 1))
        with pytest.raises(InvalidFilter) as caught:
            parse_filter(text)
        assert str(caught.value) == f"The filter is longer than {MAX_LENGTH} characters."

    def test_long_texts_parse_but_are_not_cached(self) -> None:
        from scimcore.filter import _parser

        text = " or ".join(f'userName eq "u{n}"' for n in range(80))
        assert len(text) > _parser._CACHED_LENGTH
        assert len(parse_filter(text).operands) == 80  # type: ignore[union-attr]
        assert not any(key[0] == text for key in _parser._PARSED)

    def test_depth_limit(self) -> None:
        deep = "(" * MAX_DEPTH + "a pr" + ")" * MAX_DEPTH
        assert parse_filter(deep) == Present(p("a"))
        too_deep = "(" * (MAX_DEPTH + 1) + "a pr" + ")" * (MAX_DEPTH + 1)
        with pytest.raises(InvalidFilter) as caught:
            parse_filter(too_deep)
        assert caught.value.detail == f"The filter nests parentheses more than {MAX_DEPTH} deep."
        assert caught.value.span == (MAX_DEPTH, MAX_DEPTH + 1)
        # Parentheses inside strings do not count.
        quoted = 'a eq "' + "(" * (MAX_DEPTH + 1) + '"'
        assert parse_filter(quoted) == Compare(p("a"), "eq", "(" * (MAX_DEPTH + 1))

    def test_errors_are_scim_errors_with_source_and_span(self) -> None:
        with pytest.raises(ScimError) as caught:
            parse_filter("a pr )")
        assert caught.value.status == 400
        assert caught.value.scim_type == "invalidFilter"
        assert caught.value.source == "a pr )"
        assert caught.value.span == (5, 6)


class TestPaths:
    def path_error(self, text: str) -> tuple[type[ScimError], str]:
        with pytest.raises((InvalidPath, InvalidFilter)) as caught:
            parse_path(text)
        return type(caught.value), str(caught.value)

    def test_malformed_paths_are_invalid_path(self) -> None:
        assert self.path_error("members.") == (
            InvalidPath,
            "Unexpected '.'; expected the end.\n  members.\n         ^",
        )
        assert self.path_error("a.b.c") == (
            InvalidPath,
            "Sub-attributes nest one level only: 'a.b.c'.\n  a.b.c\n  ^^^^^",
        )
        assert self.path_error("name.givenName[x pr]")[0] is InvalidPath
        assert self.path_error("")[1] == "The path is empty.\n  \n  ^"

    def test_a_bad_filter_inside_brackets_is_invalid_filter(self) -> None:
        assert self.path_error("members[value eq]") == (
            InvalidFilter,
            "Unexpected ']'; expected a space and a value.\n  members[value eq]\n                  ^",
        )
        assert self.path_error('members[value eq "a]"].') == (
            InvalidPath,
            "Unexpected '.'; expected a sub-attribute ('.name') or the end.\n"
            '  members[value eq "a]"].\n'
            "                        ^",
        )

    def test_bare_extension_urn(self) -> None:
        # Not in the ABNF; IdPs send it. It parses as written: the last segment is the name.
        assert parse_path(ENTERPRISE) == PatchPath(
            AttrPath(ENTERPRISE.rpartition(":")[0], "User", None)
        )

    def test_spaces_around(self) -> None:
        assert parse_path("  members  ") == PatchPath(p("members"))
