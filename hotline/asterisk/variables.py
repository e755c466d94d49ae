"""Channel variables the AGI routes set for the dialplan: the only place they are spelled."""

from typing import Final

# Request type chosen in the menu (consultation, help, complaint, …), empty if none.
HOTLINE_REQUEST_TYPE: Final = "HOTLINE_REQUEST_TYPE"
# Queue the dialplan sends the caller to.
HOTLINE_QUEUE: Final = "HOTLINE_QUEUE"
# The key pressed in the main menu, or "none".
HOTLINE_IVR_CHOICE: Final = "HOTLINE_IVR_CHOICE"
# How the IVR ended: one of the RESULT_* values below.
HOTLINE_IVR_RESULT: Final = "HOTLINE_IVR_RESULT"
# "1" when the caller asked for the emergency lines (110/119/120/122).
HOTLINE_EMERGENCY: Final = "HOTLINE_EMERGENCY"

# Values of HOTLINE_IVR_RESULT.
RESULT_CHOSEN: Final = "chosen"  # a valid key was pressed
RESULT_FAILED: Final = "failed"  # no valid key after every attempt: fallback queue
RESULT_ERROR: Final = "error"  # our software failed: general queue

# Value of HOTLINE_IVR_CHOICE when no valid key was pressed.
CHOICE_NONE: Final = "none"

# The queue every call can fall back to (config.settings requires it to exist).
GENERAL_QUEUE: Final = "general"

# Set by the ivr route for the dialplan's other exits.
# The emergency line (110/119/120/122) to transfer to over the emergency trunk.
HOTLINE_TRANSFER: Final = "HOTLINE_TRANSFER"
# "1": hang up after the message the IVR played (a blocked number, a left message).
HOTLINE_HANGUP: Final = "HOTLINE_HANGUP"
# Satisfaction survey answer (survey route): satisfied, basically, dissatisfied or none.
HOTLINE_SURVEY: Final = "HOTLINE_SURVEY"

RESULT_BLOCKED: Final = "blocked"  # a blocked number (art. 21.4) heard the notice
RESULT_NO_SKILL: Final = "no-skilled-agent"  # nobody with the skill logged in: general
RESULT_PROGRESS_FAILED: Final = "progress-failed"  # three wrong order numbers: an agent

# Waiting in a queue (agi/waiting.py).
# "callback" or "message": the caller took the offer made at joining the queue.
HOTLINE_WAIT_CHOICE: Final = "HOTLINE_WAIT_CHOICE"
# The id of the callback the caller asked for (key 1); empty if it could not be taken.
HOTLINE_CALLBACK: Final = "HOTLINE_CALLBACK"
# The work order a left message became (key 2).
HOTLINE_MESSAGE_ORDER: Final = "HOTLINE_MESSAGE_ORDER"

# The work order a returning caller looked up before asking for an agent (same matter).
HOTLINE_ORDER: Final = "HOTLINE_ORDER"
# app_queue's QUEUE_PRIO (higher first; queue time among equals): a returning caller on the
# same matter, and an emergency (突发) caller whose emergency line did not answer.
RETURNING_PRIORITY: Final = 5
EMERGENCY_PRIORITY: Final = 10

# A duty call about an emergency (突发) order (agi/duty.py, [hotline-duty-call]): the
# service's Originate sets the attempt, the order's digits and the role rung; the route
# leaves the outcome (workorders.models.Outcome) for the dialplan's report.
HOTLINE_DUTY_CALL: Final = "HOTLINE_DUTY_CALL"
HOTLINE_DUTY_ORDER: Final = "HOTLINE_DUTY_ORDER"
HOTLINE_DUTY_ROLE: Final = "HOTLINE_DUTY_ROLE"
HOTLINE_DUTY_RESULT: Final = "HOTLINE_DUTY_RESULT"
