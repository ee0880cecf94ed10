"""Paste workers: frames are pasted on a few threads while the main thread decodes, swaps and encodes,
and leave in the order they came.

OpenCV and torch release the GIL while they warp and blend, so threads are enough. At most
``window`` frames are in flight, so memory stays flat however long the video is.
"""
from __future__ import annotations

from collections import deque
from typing import Callable, Iterable, Iterator, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

FRAMES_PER_WORKER = 2  # in flight per worker: one being pasted, one waiting, so no worker idles


def map_in_order(work: Callable[[Item], Result], items: Iterable[Item], workers: int) -> Iterator[Result]:
    """``work(item)`` for every item, results in the items' order; inline when ``workers`` is 0."""
    if workers <= 0:
        yield from map(work, items)
        return
    from concurrent.futures import ThreadPoolExecutor

    window = FRAMES_PER_WORKER * workers
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="paste") as pool:
        in_flight = deque()
        try:
            for item in items:
                in_flight.append(pool.submit(work, item))
                if len(in_flight) >= window:
                    yield in_flight.popleft().result()
            while in_flight:
                yield in_flight.popleft().result()
        finally:
            for future in in_flight:  # stopped early (an error downstream): drop the rest
                future.cancel()
