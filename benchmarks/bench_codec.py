"""Codec: decode and encode of the RFC 7643 §8.3 user (§8.2 plus the enterprise extension).

scimcore's generated hooks against scim2-models 0.12.3 doing the same work:
``User[EnterpriseUser].model_validate(doc, scim_ctx=Context.RESOURCE_QUERY_RESPONSE)`` and
``model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)``. Target: at least 5× each.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from _harness import Case

from scimcore.codecs.v2 import decode, encode
from scimcore.models import User

DOC: dict[str, Any] = json.loads(
    (
        Path(__file__).parent.parent / "tests" / "data" / "rfc" / "rfc7643-8.3-enterprise-user.json"
    ).read_text("utf-8")
)


def cases() -> list[Case]:
    """Decode and encode, side by side with scim2-models."""
    from scim2_models import Context, EnterpriseUser, SearchRequest
    from scim2_models import User as PeerUser

    peer_model = PeerUser[EnterpriseUser]
    ctx = Context.RESOURCE_QUERY_RESPONSE
    ours = decode(DOC, User)
    theirs = peer_model.model_validate(DOC, scim_ctx=ctx)
    assert encode(ours) == DOC
    selection: Any = SearchRequest.model_validate({"attributes": ["userName", "emails.value"]})
    return [
        Case(
            "decode RFC 7643 §8.3 user (+enterprise)",
            lambda: decode(DOC, User),
            lambda: peer_model.model_validate(DOC, scim_ctx=ctx),
            "scim2-models 0.12.3 model_validate",
            target=5,
        ),
        Case(
            "encode RFC 7643 §8.3 user (+enterprise)",
            lambda: encode(ours),
            lambda: theirs.model_dump(scim_ctx=ctx),
            "scim2-models 0.12.3 model_dump",
            target=5,
        ),
        Case(
            "decode + encode, projected (attributes=userName,emails.value)",
            lambda: encode(decode(DOC, User), attributes=["userName", "emails.value"]),
            lambda: peer_model.model_validate(DOC, scim_ctx=ctx).model_dump(
                scim_ctx=ctx, response_parameters=selection
            ),
            "scim2-models 0.12.3",
        ),
    ]
