"""recordings: archive index and work queue, hash-chained manifest, legal holds, access log

Revision ID: 0002_recordings
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_recordings"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("recording", schema=None) as b:
        b.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="pending"))
        b.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        b.add_column(sa.Column("last_error", sa.String(500), nullable=False, server_default=""))
        b.add_column(sa.Column("archive_path", sa.String(255), nullable=False, server_default=""))
        b.add_column(sa.Column("archive_format", sa.String(8), nullable=False, server_default=""))
        b.add_column(sa.Column("archive_size", sa.Integer(), nullable=True))
        b.add_column(sa.Column("sha256", sa.String(64), nullable=False, server_default=""))
        b.add_column(sa.Column("channels", sa.Integer(), nullable=True))
        b.add_column(sa.Column("duration_seconds", sa.Float(), nullable=True))
        b.add_column(sa.Column("expected_seconds", sa.Float(), nullable=True))
        b.add_column(
            sa.Column("truncated", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        b.add_column(
            sa.Column("work_order_number", sa.String(32), nullable=False, server_default="")
        )
        b.add_column(sa.Column("agent", sa.String(64), nullable=False, server_default=""))
        b.add_column(sa.Column("queue", sa.String(32), nullable=False, server_default=""))
        b.add_column(sa.Column("processed_at", TZ, nullable=True))
        b.add_column(sa.Column("expires_at", TZ, nullable=True))
        b.add_column(sa.Column("purged_at", TZ, nullable=True))
        b.create_index("ix_recording_status", ["status"])
        b.create_index("ix_recording_agent", ["agent"])
        b.create_index("ix_recording_work_order_number", ["work_order_number"])

    op.create_table(
        "recording_manifest",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("linkedid", sa.String(64), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("prev_hash"),
        sa.UniqueConstraint("entry_hash"),
    )
    op.create_index("ix_recording_manifest_linkedid", "recording_manifest", ["linkedid"])

    op.create_table(
        "recording_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(64), nullable=False),
        sa.Column("work_order_number", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("placed_by", sa.String(64), nullable=False),
        sa.Column("placed_at", TZ, nullable=False),
        sa.Column("released_at", TZ, nullable=True),
        sa.Column("released_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_recording_hold_linkedid", "recording_hold", ["linkedid"])
    op.create_index("ix_recording_hold_work_order_number", "recording_hold", ["work_order_number"])

    op.create_table(
        "recording_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("linkedid", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("remote", sa.String(64), nullable=False),
        sa.Column("detail", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_recording_access_at", "recording_access", ["at"])
    op.create_index("ix_recording_access_user", "recording_access", ["user"])
    op.create_index("ix_recording_access_linkedid", "recording_access", ["linkedid"])

    # The manifest and the access log are insert-only: the database itself refuses
    # UPDATE and DELETE (tampering needs a schema change, which verify then exposes).
    bind = op.get_bind()
    for table in ("recording_manifest", "recording_access"):
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
    bind = op.get_bind()
    for table in ("recording_manifest", "recording_access"):
        if bind.dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_insert_only ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_insert_only()")
    op.drop_table("recording_access")
    op.drop_table("recording_hold")
    op.drop_table("recording_manifest")
    with op.batch_alter_table("recording", schema=None) as b:
        b.drop_index("ix_recording_work_order_number")
        b.drop_index("ix_recording_agent")
        b.drop_index("ix_recording_status")
        for col in (
            "status", "attempts", "last_error", "archive_path", "archive_format",
            "archive_size", "sha256", "channels", "duration_seconds", "expected_seconds",
            "truncated", "work_order_number", "agent", "queue", "processed_at",
            "expires_at", "purged_at",
        ):  # fmt: skip
            b.drop_column(col)
