"""Checkpoints: snapshot what the agent changes, per turn, and restore it safely.

The service records with `TurnRecorder` (plus a long-lived `Scanner` for shell commands),
appends `checkpoint_entry(...)` through the session writer, serves lists, diffs and restores
from `list_checkpoints`, `file_diffs` and `restore.plan` / `restore.apply`, and calls
`gc.collect` after a session is deleted or the trash purged.
"""

from agent_ls.checkpoints.blobs import BlobStore, sha256_hex
from agent_ls.checkpoints.diffs import file_diffs
from agent_ls.checkpoints.entries import UNKNOWN, checkpoint_entry
from agent_ls.checkpoints.errors import (
    AmbiguousCheckpoint,
    BlobCorrupt,
    BlobMissing,
    CheckpointError,
    CheckpointNotFound,
    OutsideWorkspace,
)
from agent_ls.checkpoints.gc import GcReport, collect
from agent_ls.checkpoints.listing import CheckpointSummary, FileSummary, list_checkpoints
from agent_ls.checkpoints.recorder import CommandChanges, ReadBytes, TurnRecorder, read_disk
from agent_ls.checkpoints.restore import (
    Applier,
    DirectApplier,
    FileChange,
    FileResult,
    RestorePlan,
    RestoreResult,
    apply,
    plan,
)
from agent_ls.checkpoints.scan import ScanLimits, Scanner

__all__ = [
    "UNKNOWN",
    "AmbiguousCheckpoint",
    "Applier",
    "BlobCorrupt",
    "BlobMissing",
    "BlobStore",
    "CheckpointError",
    "CheckpointNotFound",
    "CheckpointSummary",
    "CommandChanges",
    "DirectApplier",
    "FileChange",
    "FileResult",
    "FileSummary",
    "GcReport",
    "OutsideWorkspace",
    "ReadBytes",
    "RestorePlan",
    "RestoreResult",
    "ScanLimits",
    "Scanner",
    "TurnRecorder",
    "apply",
    "checkpoint_entry",
    "collect",
    "file_diffs",
    "list_checkpoints",
    "plan",
    "read_disk",
    "sha256_hex",
]
