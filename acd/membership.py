"""Log agents in and out of their queues over AMI (QueueAdd / QueueRemove)."""

from __future__ import annotations

import asyncio

from config.settings import Settings, asterisk_queue
from crm_bridge.ami import AmiClient
from hotline.agents import Agent


async def _run(settings: Settings, agent: Agent, add: bool) -> list[str]:
    ami = AmiClient(settings.ami)
    await ami.connect()
    try:
        await asyncio.wait_for(ami.logged_in.wait(), 10)
        done = []
        for queue in agent.queues:
            action = {
                "Action": "QueueAdd" if add else "QueueRemove",
                "Queue": asterisk_queue(queue),
                "Interface": f"PJSIP/{agent.id}",
            }
            if add:
                action |= {
                    "MemberName": agent.id,
                    "StateInterface": f"PJSIP/{agent.id}",
                    "Penalty": "0",
                }
            reply = await ami.action(action)
            message = str(reply.get("Message", ""))
            ok = (
                reply.get("Response") == "Success"
                or "Already there" in message
                or (not add and "Not there" in message)
            )
            if not ok:
                raise ConnectionError(f"{action['Action']} {queue}: {message}")
            done.append(queue)
        return done
    finally:
        ami.close()


async def login(settings: Settings, agent: Agent) -> list[str]:
    return await _run(settings, agent, True)


async def logout(settings: Settings, agent: Agent) -> list[str]:
    return await _run(settings, agent, False)
