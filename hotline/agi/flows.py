"""The Python flows a `subflow` node may name, by name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hotline.agi.call import Call, Exit
from hotline.agi.progress import progress
from hotline.agi.returning import returning_caller
from hotline.agi.tree import SubflowNode

# A flow ends the IVR (Exit), hands a key pressed during it to the next menu (str),
# or lets the walk go on to the node's `next` (None).
Flow = Callable[[Call, SubflowNode], Awaitable[Exit | str | None]]


async def run_flow(call: Call, node: SubflowNode) -> Exit | str | None:
    flows: dict[str, Flow] = {"progress": progress, "returning_caller": returning_caller}
    return await flows[node.flow](call, node)
