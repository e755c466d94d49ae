"""The asterisk package's sections of the config: SIP (PJSIP transports, the carrier) and AMI."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import (
    Field,
    model_validator,
)

from hotline.kernel.settings import (
    Section,
    Site,
)


class RtpTimeout(Section):
    """When Asterisk hangs up a call leg that receives no audio: its far end (a carrier that
    lost the call, a phone unplugged or off the network) went without a BYE."""

    seconds: int = Field(
        default=60,
        ge=0,
        le=86400,
        description="A leg that receives no audio (RTP) this long while the call is up is "
        "hung up (PJSIP rtp_timeout); 0: never. A phone or carrier that stops sending audio "
        "in silence (silence suppression, VAD) needs it off or this raised.",
    )
    on_hold_seconds: int = Field(
        default=600,
        ge=0,
        le=86400,
        description="The same while the far end holds the call, when many phones send "
        "nothing (PJSIP rtp_timeout_hold); 0: never.",
    )

    @model_validator(mode="after")
    def _hold_not_shorter(self) -> RtpTimeout:
        if self.seconds and self.on_hold_seconds and self.on_hold_seconds < self.seconds:
            raise ValueError(
                "on_hold_seconds must not be shorter than seconds "
                f"({self.on_hold_seconds} < {self.seconds}): a held call, which may send no "
                "audio, would be cut sooner than a talking one; 0 turns either off"
            )
        return self


class SipSettings(Section):
    host: str = Field(
        default="127.0.0.1",
        description="Address Asterisk's PJSIP transports (UDP and TCP) bind to; 0.0.0.0 to "
        "take calls and softphones from the LAN.",
    )
    port: int = Field(default=5060, ge=1, le=65535, description="SIP port (UDP and TCP).")
    hotline_number: str = Field(
        default="12345",
        pattern=r"^[0-9]{3,15}$",
        description="The number citizens dial; `hotline call` calls it.",
    )
    trunk_match: list[str] = Field(
        default_factory=lambda: ["127.0.0.1"],
        description="Addresses the carrier's INVITEs come from (PJSIP identify match).",
    )
    rtp_start: int = Field(
        default=10000, ge=1024, le=65535, description="First RTP (audio) port (rtp.conf)."
    )
    rtp_end: int = Field(
        default=20000, ge=1024, le=65535, description="Last RTP (audio) port (rtp.conf)."
    )
    realm: str = Field(
        default="hotline",
        description="SIP digest realm of the softphones' registrations; the stored HA1 of "
        "each agent's password is computed with it.",
    )
    carrier_rtp_timeout: RtpTimeout = Field(
        default_factory=RtpTimeout,
        description="The citizen's leg on the carrier trunk (and the calls the hotline places "
        "over it): hung up after this long without audio, so that the call ends and its "
        "record is written.",
    )
    agent_rtp_timeout: RtpTimeout = Field(
        default_factory=RtpTimeout,
        description="An agent's phone: its leg is hung up after this long without audio, "
        "and the citizen goes on as after the agent's hang-up (the satisfaction survey).",
    )
    agent_qualify_seconds: int = Field(
        default=10,
        ge=0,
        le=3600,
        description="How often Asterisk asks each agent's phone (a desk phone's fixed contact "
        "and a registered softphone alike) whether it is there (SIP OPTIONS, pjsip.conf "
        "qualify_frequency): a phone that does not answer is unavailable, never rung by a "
        "queue, and shows as unreachable (话机离线) on the wallboard. 0 turns it off.",
    )
    agent_qualify_timeout_seconds: float = Field(
        default=3.0,
        gt=0,
        le=30,
        description="How long a phone has to answer that question before it is unreachable.",
    )


class AmiSettings(Section):
    host: str = Field(default="127.0.0.1", description="Where Asterisk's AMI listens.")
    port: int = Field(default=5038, ge=1, le=65535, description="AMI port.")
    username: str = Field(
        default="hotline",
        description="The services' least-privilege AMI user (manager.conf).",
    )
    secret: str = Field(
        default="",
        description="The AMI user's secret: generated at install into var/secrets.env "
        "(HOTLINE_AMI__SECRET); never a default in git.",
    )
    ping_every_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Keep-alive: each AMI connection sends its own Ping this often.",
    )
    ping_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="A connection that leaves a Ping (or the login) unanswered this long is "
        "dropped and opened again: a dead link, even one cut without a close, is noticed "
        "within ping_every_seconds + ping_timeout_seconds (10 s by default).",
    )


class AsteriskConfig(Site, Protocol):
    """What the asterisk package reads of the settings."""

    @property
    def sip(self) -> SipSettings: ...
    @property
    def ami(self) -> AmiSettings: ...
    @property
    def asterisk_root(self) -> Path | None: ...
    @property
    def asterisk_suite(self) -> str: ...
    @property
    def debian_mirror(self) -> str: ...
