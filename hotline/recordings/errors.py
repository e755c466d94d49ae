"""The recordings package's exceptions, each with a stable error_id (kernel/errors.py).

HotlineError
 ├── ArchiveError   recordings.archive_failed   (archive.py)
 └── SpoolError     recordings.spool_unknown    (spool.py)
"""

from __future__ import annotations

from hotline.kernel.errors import HotlineError


class ArchiveError(HotlineError):
    """The source could not be read or the archive not written."""

    error_id = "recordings.archive_failed"


class SpoolError(HotlineError):
    """Asterisk could not be asked, or did not take, which spool new calls record into."""

    error_id = "recordings.spool_unknown"
