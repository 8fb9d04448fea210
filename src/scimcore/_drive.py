"""The one driver loop for sans-I/O generators.

Protocol logic in scimcore is written as generators that *yield* what they need
done (a store call, an SQL statement) and *receive* its result, so that the same
logic runs against sync and async I/O without being written twice. The
generator never performs I/O itself; a driver does, and feeds the result back
in. An exception raised while performing a step is thrown back into the
generator at the ``yield`` that asked for it, so the generator reads like
ordinary code (it may catch the error, or let it propagate out of the driver).

>>> def double_twice(n):
...     n = yield n
...     n = yield n
...     return n
>>> drive(double_twice(3), lambda n: n * 2)
12
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

__all__ = ["drive", "drive_async"]

Y = TypeVar("Y")
R = TypeVar("R")


def drive(steps: Generator[Y, Any, R], perform: Callable[[Y], Any]) -> R:
    """Run ``steps`` to completion, performing each step it yields with ``perform``."""
    value: Any = None
    error: Exception | None = None
    while True:
        try:
            step = steps.send(value) if error is None else steps.throw(error)
        except StopIteration as stop:
            result: R = stop.value
            return result
        try:
            value, error = perform(step), None
        except Exception as exc:
            value, error = None, exc


async def drive_async(steps: Generator[Y, Any, R], perform: Callable[[Y], Awaitable[Any]]) -> R:
    """:func:`drive` with an async ``perform``.

    >>> import asyncio
    >>> async def add_one(n):
    ...     return n + 1
    >>> def twice(n):
    ...     return (yield (yield n))
    >>> asyncio.run(drive_async(twice(1), add_one))
    3
    """
    value: Any = None
    error: Exception | None = None
    while True:
        try:
            step = steps.send(value) if error is None else steps.throw(error)
        except StopIteration as stop:
            result: R = stop.value
            return result
        try:
            value, error = await perform(step), None
        except Exception as exc:
            value, error = None, exc
