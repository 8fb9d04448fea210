"""Identity-provider deviations from the RFCs, as named switches.

Real identity providers do not always speak RFC 7643/7644 to the letter.
Each switch of :class:`Policy` names one deviation and who sends it; docs/policy.md
lists every switch with its value in each preset and where the deviation is
documented or reported. The presets:

- :meth:`Policy.strict`: the RFCs to the letter, every deviation refused.
- :meth:`Policy.entra`: what Microsoft Entra ID sends.
- :meth:`Policy.okta`: what Okta sends.
- :meth:`Policy.interop`: every deviation whose reading is unambiguous, and for
  the ambiguous ones the reading that loses no data. The default of the server.

Operation names in PATCH (``"Replace"``) are always matched case-insensitively:
RFC 7644 does not forbid it and Entra sends them capitalised, so it is not a switch.

>>> Policy.strict().string_booleans, Policy.entra().string_booleans
(False, True)
>>> Policy.interop() == Policy()
True
"""

from __future__ import annotations

from typing import Literal

import attrs

__all__ = ["Policy"]


@attrs.frozen(kw_only=True, cache_hash=True)
class Policy:
    """Switches for the deviations scimcore tolerates; ``Policy()`` is :meth:`interop`.

    Decoding (codecs):

    - ``string_booleans``: accept ``"True"``/``"False"`` (any case) for a boolean
      attribute, in bodies, PATCH values and filters. Entra sends them
      (AzureAD/SCIMReferenceCode#21).
    - ``single_value_as_list``: a single object or value where a multi-valued
      attribute expects a list becomes a one-element list. OneLogin templates.
    - ``unknown_attributes``: ``"ignore"`` an attribute no schema defines, or
      refuse it with ``"error"`` (``invalidSyntax``).
    - ``unknown_schemas``: tolerate an unknown URN in ``schemas``. Entra sends one
      when it creates a group.

    Filters and paths:

    - ``filter_value_path_suffix``: read ``emails[type eq "work"].value eq "x"`` as
      ``emails[type eq "work" and value eq "x"]``. Entra's lookup when ``emails``
      is the matching attribute.
    - ``unquoted_filter_values``: accept a bare word as a string value
      (``meta.resourceType eq User``, RFC 7644 §3.4.2.1's own example; Microsoft's
      test collection).
    - ``not_without_parentheses``: accept ``not x eq 1`` as ``not (x eq 1)``.
    - ``urn_dot_separator``: accept ``urn:…:User.manager`` for ``urn:…:User:manager``.
      Entra's legacy ``customappsso`` jobs send it.
    - ``unknown_filter_attribute``: an attribute no schema defines ``"matches_nothing"``
      (RFC 7644 §3.4.2.2 for multi-type queries) or is an ``"error"`` (``invalidFilter``).

    PATCH:

    - ``remove_with_value``: ``remove`` on a multi-valued attribute with a ``value``
      list removes just those values, not the whole attribute. Entra (``members``),
      JumpCloud.
    - ``create_on_no_match``: ``add``/``replace`` on a valuePath that matches nothing
      creates the element. Entra and its SCIM validator.
    - ``dotted_value_keys``: path-less values keyed ``name.givenName`` or by a full
      URN path set that (sub-)attribute. Entra (the ``aadOptscim062020`` behaviour).
    - ``bare_urn_path``: a PATCH ``path`` that is a whole extension URN
      (``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User``) with an object
      value addresses that extension; not in RFC 7644 Figure 7's grammar. Okta,
      Slack and others send it.
    - ``manager_as_string``: the enterprise ``manager`` given as a bare string means
      ``{"value": …}``. Entra.
    - ``ignore_matching_id``: an ``id`` equal to the resource's in a path-less
      ``replace`` is ignored rather than a ``mutability`` error. Okta, renaming a group.
    - ``merge_partial_complex``: a path-less ``replace`` with a partial complex
      value (``name``) keeps the sub-attributes it does not mention. SailPoint;
      RFC 7644 §3.5.2.3 reads the same way.
    - ``empty_operations``: an empty ``Operations`` list is an ``"error"``
      (``invalidValue``, RFC 7644 §3.5.2 asks for one or more) or a ``"no-op"``.
      Microsoft's SCIM validator sends one.

    References:

    - ``unknown_members``: a group's new ``members`` may name ids that no User or
      Group has (stored as they are); off, such a member is ``invalidValue``.
      Provisioning that adds a member before creating it (eventual consistency;
      scim-sanity's probe does) needs it on.
    """

    string_booleans: bool = True
    single_value_as_list: bool = True
    unknown_attributes: Literal["ignore", "error"] = "ignore"
    unknown_schemas: bool = True

    filter_value_path_suffix: bool = True
    unquoted_filter_values: bool = True
    not_without_parentheses: bool = True
    urn_dot_separator: bool = True
    unknown_filter_attribute: Literal["matches_nothing", "error"] = "matches_nothing"

    remove_with_value: bool = True
    create_on_no_match: bool = True
    dotted_value_keys: bool = True
    bare_urn_path: bool = True
    manager_as_string: bool = True
    ignore_matching_id: bool = True
    merge_partial_complex: bool = True
    empty_operations: Literal["error", "no-op"] = "error"

    unknown_members: bool = True

    @classmethod
    def strict(cls) -> Policy:
        """The RFCs to the letter: every deviation refused, unknown names are errors."""
        return cls(
            string_booleans=False,
            single_value_as_list=False,
            unknown_attributes="error",
            unknown_schemas=False,
            filter_value_path_suffix=False,
            unquoted_filter_values=False,
            not_without_parentheses=False,
            urn_dot_separator=False,
            unknown_filter_attribute="error",
            remove_with_value=False,
            create_on_no_match=False,
            dotted_value_keys=False,
            bare_urn_path=False,
            manager_as_string=False,
            ignore_matching_id=False,
            merge_partial_complex=True,
            unknown_members=False,
        )

    @classmethod
    def entra(cls) -> Policy:
        """What Microsoft Entra ID sends: strict, plus Entra's deviations."""
        return attrs.evolve(
            cls.strict(),
            string_booleans=True,
            unknown_attributes="ignore",
            unknown_schemas=True,
            filter_value_path_suffix=True,
            urn_dot_separator=True,
            unknown_filter_attribute="matches_nothing",
            remove_with_value=True,
            create_on_no_match=True,
            dotted_value_keys=True,
            bare_urn_path=True,
            manager_as_string=True,
        )

    @classmethod
    def okta(cls) -> Policy:
        """What Okta sends: strict, plus Okta's deviations."""
        return attrs.evolve(
            cls.strict(),
            unknown_attributes="ignore",
            unknown_filter_attribute="matches_nothing",
            bare_urn_path=True,
            ignore_matching_id=True,
        )

    @classmethod
    def interop(cls) -> Policy:
        """Every deviation whose reading is unambiguous; the default."""
        return cls()
