"""The `survey` route: after the agent hung up first, the citizen rates the call.

1 satisfied 满意, 2 basically satisfied 基本满意, 3 dissatisfied 不满意 (which
creates a revisit task, art. 27.3). No answer is stored as "none".
"""

from __future__ import annotations

import logging

from hotline.agi.channel import AGIChannel
from hotline.agi.reload import ConfigStore
from hotline.agi.services import IvrServices
from hotline.asterisk.variables import HOTLINE_SURVEY

log = logging.getLogger(__name__)

ANSWERS = {"1": "satisfied", "2": "basically", "3": "dissatisfied"}


async def survey(agi: AGIChannel, store: ConfigStore, services: IvrServices) -> None:
    config = store.current
    linkedid = next(iter(agi.arguments), "") or agi.uniqueid
    answer = "none"
    if config.survey_prompt:
        timeout_ms = round(config.survey_timeout_seconds * 1000)
        for _ in range(config.survey_attempts):
            key = await agi.get_data(config.sound(config.survey_prompt), timeout_ms, 1)
            if key in ANSWERS:
                answer = ANSWERS[key]
                break
    await agi.set_variable(HOTLINE_SURVEY, answer)
    log.info("call %s: survey answer %s", linkedid, answer)
    await services.save_survey(linkedid, agi.callerid, answer)
    if answer != "none" and config.survey_thanks_prompt:
        await agi.stream_file(config.sound(config.survey_thanks_prompt))
