"""baseline: the whole schema in one revision (the chain 0001 … 0013 squashed)

Revision ID: 0001_baseline
Revises:
Create Date: 2026-12-04

The tables, columns (in the order the old chain left them), indexes, constraints and server
defaults are those that the old chain's `alembic upgrade head` produced, on SQLite and on
PostgreSQL alike; the server defaults are those of the columns it added to tables that could
already hold rows. tests/unit/kernel/test_migrations.py and tests/db/test_migrations_pg.py
compare the result with the models (SQLModel.metadata).
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

# Insert-only tables: the database itself refuses UPDATE and DELETE (tampering needs a
# schema change, which `hotline recordings verify` then exposes).
INSERT_ONLY = ("recording_manifest", "recording_access")


def upgrade() -> None:
    op.create_table(
        "agent_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("agent", sa.String(length=32), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("supervisor_ext", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("result", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_agent_action_agent"), "agent_action", ["agent"], unique=False)
    op.create_index(op.f("ix_agent_action_at"), "agent_action", ["at"], unique=False)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("object_id", sa.String(length=100), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index(op.f("ix_audit_log_user"), "audit_log", ["user"], unique=False)
    op.create_table(
        "blocked_number",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=64), nullable=False),
        sa.Column("refused_calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_blocked_number_number"), "blocked_number", ["number"], unique=False)
    op.create_table(
        "call_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=32), nullable=False),
        sa.Column("caller_number", sa.String(length=40), nullable=False),
        sa.Column("caller_name", sa.String(length=80), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ivr_left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ivr_choice", sa.String(length=8), nullable=False),
        sa.Column("ivr_result", sa.String(length=32), nullable=False),
        sa.Column("request_type", sa.String(length=20), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("queue", sa.String(length=32), nullable=False),
        sa.Column("queues", sa.String(length=200), nullable=False),
        sa.Column("queue_joined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wait_seconds", sa.Float(), nullable=True),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("talk_seconds", sa.Float(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hangup_cause", sa.Integer(), nullable=True),
        sa.Column("hangup_cause_text", sa.String(length=64), nullable=False),
        sa.Column("disposition", sa.String(length=24), nullable=False),
        sa.Column("recording_path", sa.String(length=255), nullable=False),
        sa.Column("survey", sa.String(length=16), server_default="", nullable=False),
        sa.Column("emergency_line", sa.String(length=8), server_default="", nullable=False),
        sa.Column("widening", sa.String(length=120), server_default="", nullable=False),
        sa.Column("widening_pace", sa.String(length=12), server_default="", nullable=False),
        sa.Column("source", sa.String(length=8), server_default="ami", nullable=False),
        sa.Column("speech_text", sa.String(length=100), server_default="", nullable=False),
        sa.Column("speech_choice", sa.String(length=8), server_default="", nullable=False),
        sa.Column("speech_keyword_line", sa.String(length=8), server_default="", nullable=False),
        sa.Column("speech_keyword", sa.String(length=32), server_default="", nullable=False),
        sa.Column("speech_confidence", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_call_record_caller_number"), "call_record", ["caller_number"], unique=False
    )
    op.create_index(
        op.f("ix_call_record_disposition"), "call_record", ["disposition"], unique=False
    )
    op.create_index(op.f("ix_call_record_linkedid"), "call_record", ["linkedid"], unique=True)
    op.create_index(op.f("ix_call_record_source"), "call_record", ["source"], unique=False)
    op.create_table(
        "callback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("caller_number", sa.String(length=40), nullable=False),
        sa.Column("queue", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("request_type", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("call_linkedid", sa.String(length=64), nullable=False),
        sa.Column("last_result", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_callback_linkedid"), "callback", ["linkedid"], unique=False)
    op.create_index(
        op.f("ix_callback_next_attempt_at"), "callback", ["next_attempt_at"], unique=False
    )
    op.create_index(op.f("ix_callback_status"), "callback", ["status"], unique=False)
    op.create_table(
        "emergency_linkage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("line", sa.String(length=8), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.String(length=8), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_emergency_linkage_linkedid"), "emergency_linkage", ["linkedid"], unique=False
    )
    op.create_table(
        "emergency_party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("party", sa.String(length=64), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_emergency_party_linkedid"), "emergency_party", ["linkedid"], unique=False
    )
    op.create_table(
        "org_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("leader", sa.String(length=80), nullable=False),
        sa.Column("liaison", sa.String(length=80), nullable=False),
        sa.Column("staff", sa.String(length=400), nullable=False),
        sa.Column("duty_phone", sa.String(length=40), nullable=False),
        sa.Column("sms_number", sa.String(length=40), nullable=False),
        sa.Column("liaison_phone", sa.String(length=40), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["org_unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_org_unit_code"), "org_unit", ["code"], unique=True)
    op.create_table(
        "recording",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.String(length=500), server_default="", nullable=False),
        sa.Column("archive_path", sa.String(length=255), server_default="", nullable=False),
        sa.Column("archive_format", sa.String(length=8), server_default="", nullable=False),
        sa.Column("archive_size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), server_default="", nullable=False),
        sa.Column("channels", sa.Integer(), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("expected_seconds", sa.Float(), nullable=True),
        sa.Column("truncated", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("work_order_number", sa.String(length=32), server_default="", nullable=False),
        sa.Column("agent", sa.String(length=64), server_default="", nullable=False),
        sa.Column("queue", sa.String(length=32), server_default="", nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_recording_agent"), "recording", ["agent"], unique=False)
    op.create_index(op.f("ix_recording_linkedid"), "recording", ["linkedid"], unique=True)
    op.create_index(op.f("ix_recording_status"), "recording", ["status"], unique=False)
    op.create_index(
        op.f("ix_recording_work_order_number"), "recording", ["work_order_number"], unique=False
    )
    op.create_table(
        "recording_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_recording_access_at"), "recording_access", ["at"], unique=False)
    op.create_index(
        op.f("ix_recording_access_linkedid"), "recording_access", ["linkedid"], unique=False
    )
    op.create_index(op.f("ix_recording_access_user"), "recording_access", ["user"], unique=False)
    op.create_table(
        "recording_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("work_order_number", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("placed_by", sa.String(length=64), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_recording_hold_linkedid"), "recording_hold", ["linkedid"], unique=False
    )
    op.create_index(
        op.f("ix_recording_hold_work_order_number"),
        "recording_hold",
        ["work_order_number"],
        unique=False,
    )
    op.create_table(
        "recording_manifest",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("prev_hash"),
        sa.UniqueConstraint("entry_hash"),
    )
    op.create_index(
        op.f("ix_recording_manifest_linkedid"), "recording_manifest", ["linkedid"], unique=False
    )
    op.create_table(
        "survey_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("caller_number", sa.String(length=40), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_survey_result_linkedid"), "survey_result", ["linkedid"], unique=False)
    op.create_table(
        "upstream_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_upstream_outbox_due", "upstream_outbox", ["status", "next_at"], unique=False
    )
    op.create_index("ix_upstream_outbox_record", "upstream_outbox", ["kind", "ref"], unique=False)
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("agent_id", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_users_name"), "users", ["name"], unique=True)
    op.create_table(
        "appeal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("assessment_year", sa.Integer(), nullable=False),
        sa.Column("figure", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_appeal_unit_id"), "appeal", ["unit_id"], unique=False)
    op.create_table(
        "auth_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_auth_token_token_sha256"), "auth_token", ["token_sha256"], unique=True)
    op.create_index(op.f("ix_auth_token_user_id"), "auth_token", ["user_id"], unique=False)
    op.create_table(
        "block_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["block_id"],
            ["blocked_number.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_block_audit_block_id"), "block_audit", ["block_id"], unique=False)
    op.create_index(op.f("ix_block_audit_number"), "block_audit", ["number"], unique=False)
    op.create_table(
        "knowledge_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_knowledge_entry_unit_id"), "knowledge_entry", ["unit_id"], unique=False
    )
    op.create_table(
        "transcript",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("work_order_number", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("audio_seconds", sa.Float(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recording.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("recording_id"),
    )
    op.create_index(op.f("ix_transcript_linkedid"), "transcript", ["linkedid"], unique=False)
    op.create_index(
        op.f("ix_transcript_work_order_number"), "transcript", ["work_order_number"], unique=False
    )
    op.create_table(
        "work_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("request_type", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("caller_number", sa.String(length=40), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("due_working_days", sa.Integer(), nullable=True),
        sa.Column("confidential", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("citizen_name", sa.String(length=80), server_default="", nullable=False),
        sa.Column("contact", sa.String(length=40), server_default="", nullable=False),
        sa.Column("topic", sa.String(length=40), server_default="", nullable=False),
        sa.Column("district", sa.String(length=40), server_default="", nullable=False),
        sa.Column("content", sa.Text(), server_default="", nullable=False),
        sa.Column("query_code", sa.String(length=12), server_default="", nullable=False),
        sa.Column("lead_unit_id", sa.Integer(), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sign_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("special_law_days", sa.Integer(), nullable=True),
        sa.Column("special_law_ref", sa.String(length=120), server_default="", nullable=False),
        sa.Column("extended_days", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reply_text", sa.Text(), server_default="", nullable=False),
        sa.Column("direct_answer", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("satisfaction", sa.String(length=20), server_default="", nullable=False),
        sa.Column("satisfaction_asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("satisfaction_at", sa.DateTime(timezone=True), nullable=True),
        # named: the old chain added it to a table that existed (batch_op.create_foreign_key)
        sa.ForeignKeyConstraint(
            ["lead_unit_id"], ["org_unit.id"], name="fk_work_order_lead_unit_id"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_work_order_caller_number"), "work_order", ["caller_number"], unique=False
    )
    op.create_index(op.f("ix_work_order_district"), "work_order", ["district"], unique=False)
    op.create_index(op.f("ix_work_order_due_at"), "work_order", ["due_at"], unique=False)
    op.create_index(
        op.f("ix_work_order_lead_unit_id"), "work_order", ["lead_unit_id"], unique=False
    )
    op.create_index(op.f("ix_work_order_linkedid"), "work_order", ["linkedid"], unique=False)
    op.create_index(op.f("ix_work_order_number"), "work_order", ["number"], unique=True)
    op.create_index(op.f("ix_work_order_topic"), "work_order", ["topic"], unique=False)
    op.create_table(
        "duty_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sign_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_by", sa.String(length=64), nullable=False),
        sa.Column("minutes_late", sa.Integer(), nullable=True),
        sa.Column("overdue_alarm_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["work_order.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "dispatched_at"),
    )
    op.create_index(op.f("ix_duty_call_order_id"), "duty_call", ["order_id"], unique=False)
    op.create_index(op.f("ix_duty_call_status"), "duty_call", ["status"], unique=False)
    op.create_table(
        "extension_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["work_order.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_extension_request_order_id"), "extension_request", ["order_id"], unique=False
    )
    op.create_table(
        "knowledge_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("asked_by", sa.String(length=64), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["knowledge_entry.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_knowledge_question_unit_id"), "knowledge_question", ["unit_id"], unique=False
    )
    op.create_table(
        "revisit_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("caller_number", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("call_linkedid", sa.String(length=64), nullable=False),
        sa.Column("result", sa.String(length=24), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_revisit_task_linkedid"), "revisit_task", ["linkedid"], unique=False)
    op.create_index(op.f("ix_revisit_task_order_id"), "revisit_task", ["order_id"], unique=False)
    op.create_table(
        "supervision_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["work_order.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "kind"),
    )
    op.create_index(
        op.f("ix_supervision_notice_order_id"), "supervision_notice", ["order_id"], unique=False
    )
    op.create_index(
        op.f("ix_supervision_notice_unit_id"), "supervision_notice", ["unit_id"], unique=False
    )
    op.create_table(
        "work_order_assist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("reply_text", sa.Text(), nullable=False),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["work_order.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "unit_id"),
    )
    op.create_index(
        op.f("ix_work_order_assist_order_id"), "work_order_assist", ["order_id"], unique=False
    )
    op.create_table(
        "work_order_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_work_order_attachment_order_id"),
        "work_order_attachment",
        ["order_id"],
        unique=False,
    )
    op.create_table(
        "work_order_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "linkedid"),
    )
    op.create_index(
        op.f("ix_work_order_call_linkedid"), "work_order_call", ["linkedid"], unique=False
    )
    op.create_index(
        op.f("ix_work_order_call_order_id"), "work_order_call", ["order_id"], unique=False
    )
    op.create_table(
        "work_order_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["work_order.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_work_order_event_order_id"), "work_order_event", ["order_id"], unique=False
    )
    op.create_table(
        "duty_call_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("duty_call_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("try_no", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["duty_call_id"],
            ["duty_call.id"],
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_duty_call_attempt_duty_call_id"),
        "duty_call_attempt",
        ["duty_call_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_duty_call_attempt_order_id"), "duty_call_attempt", ["order_id"], unique=False
    )
    insert_only()


def insert_only() -> None:
    bind = op.get_bind()
    for table in INSERT_ONLY:
        if bind.dialect.name == "sqlite":
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is insert-only'); END"
                )
        elif bind.dialect.name == "postgresql":
            op.execute(
                f"CREATE FUNCTION {table}_insert_only() RETURNS trigger AS $$ "
                f"BEGIN RAISE EXCEPTION '{table} is insert-only'; END $$ LANGUAGE plpgsql"
            )
            op.execute(
                f"CREATE TRIGGER {table}_insert_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {table}_insert_only()"
            )


def downgrade() -> None:
    op.drop_table("duty_call_attempt")
    op.drop_table("work_order_event")
    op.drop_table("work_order_call")
    op.drop_table("work_order_attachment")
    op.drop_table("work_order_assist")
    op.drop_table("supervision_notice")
    op.drop_table("revisit_task")
    op.drop_table("knowledge_question")
    op.drop_table("extension_request")
    op.drop_table("duty_call")
    op.drop_table("work_order")
    op.drop_table("transcript")
    op.drop_table("knowledge_entry")
    op.drop_table("block_audit")
    op.drop_table("auth_token")
    op.drop_table("appeal")
    op.drop_table("users")
    op.drop_table("upstream_outbox")
    op.drop_table("survey_result")
    op.drop_table("recording_manifest")
    op.drop_table("recording_hold")
    op.drop_table("recording_access")
    op.drop_table("recording")
    op.drop_table("org_unit")
    op.drop_table("emergency_party")
    op.drop_table("emergency_linkage")
    op.drop_table("callback")
    op.drop_table("call_record")
    op.drop_table("blocked_number")
    op.drop_table("audit_log")
    op.drop_table("agent_action")
    if op.get_bind().dialect.name == "postgresql":
        for table in INSERT_ONLY:
            op.execute(f"DROP FUNCTION IF EXISTS {table}_insert_only()")
