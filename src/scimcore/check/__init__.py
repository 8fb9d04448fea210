"""``scimcore check``: a SCIM server checked against the RFCs and scimcore's reference.

:func:`check` seeds users in a namespace of its own, sends Hypothesis-generated
filters, PATCH requests and projections and compares each answer with what
scimcore's evaluator (:func:`~scimcore.compile_filter`), PATCH engine
(:func:`~scimcore.patch.patch_result`) and codec say it must be; a divergence is
shrunk to a minimal request. Protocol checks (authentication, error bodies,
uniqueness, deletion, paging, ETags, concurrent member adds) run beside, and the
request sequences of Entra ID and Okta are replayed under their profiles. The target is a URL
or an ASGI or WSGI application called in process; :func:`assert_conforms` is
the one-line test for a framework's own suite. Hypothesis and httpx must be
installed (the ``check`` extra).

The parts: :mod:`._run` (:func:`check`, the list of checks), :mod:`._protocol`,
:mod:`._fuzz` (the differential checks), :mod:`._replay` (the providers'
sequences), :mod:`._session` (the run's state, the seeded users), :mod:`._target`
(URL or application), :mod:`._findings` (:class:`Finding`, :class:`Report`, JSON
and JUnit XML).
"""

from scimcore.check._findings import Finding, Outcome, Report
from scimcore.check._run import CHECKS, PROFILES, CheckError, assert_conforms, check
from scimcore.check._target import Sent

__all__ = [
    "CHECKS",
    "PROFILES",
    "CheckError",
    "Finding",
    "Outcome",
    "Report",
    "Sent",
    "assert_conforms",
    "check",
]
