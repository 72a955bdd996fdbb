/**
 * The agent-ls wire contract as the extension sees it (docs/protocol.md). Plain types and
 * constants only: no `vscode` import, so every module and test can use it.
 * tests/unit/test_lsp_contract.py checks the method names, error codes and kinds, and update
 * kinds here against the server's agent_ls/lsp/protocol.py.
 */

export const Method = {
  sessionList: 'agent/session/list',
  sessionNew: 'agent/session/new',
  sessionSwitch: 'agent/session/switch',
  sessionResumeRecent: 'agent/session/resumeRecent',
  sessionHistory: 'agent/session/history',
  sessionRename: 'agent/session/rename',
  sessionDelete: 'agent/session/delete',
  sessionFork: 'agent/session/fork',
  sessionPrompt: 'agent/session/prompt',
  checkpointList: 'agent/checkpoint/list',
  checkpointDiff: 'agent/checkpoint/diff',
  checkpointRestore: 'agent/checkpoint/restore',
  permissionsList: 'agent/permissions/list',
  permissionsRevoke: 'agent/permissions/revoke',
  sessionRetry: 'agent/session/retry',
  sessionExport: 'agent/session/export',
  sessionImport: 'agent/session/import',
  sessionRewind: 'agent/session/rewind',
  checkpointRevertHunks: 'agent/checkpoint/revertHunks',
  sessionSearch: 'agent/session/search',
  sessionSetMetadata: 'agent/session/setMetadata',
  sessionReset: 'agent/session/reset',
  sessionTrash: 'agent/session/trash',
  sessionUndelete: 'agent/session/undelete',
  sessionCompact: 'agent/session/compact',
  /** client → server notification */
  sessionCancel: 'agent/session/cancel',
  /** server → client notifications */
  sessionUpdate: 'agent/session/update',
  sessionListChanged: 'agent/session/listChanged',
  /** server → client request */
  requestPermission: 'agent/session/requestPermission',
} as const;

/** Error codes; clients switch on the stable `data.kind` (`ErrorKind`), not on the number. */
export const ErrorCode = {
  invalidParams: -32602,
  internal: -32603,
  sessionNotFound: -32010,
  sessionBusy: -32011,
  checkpointFailed: -32012,
  checkpointNotFound: -32013,
  sessionExists: -32014,
  requestCancelled: -32800,
} as const;

export const ErrorKind = {
  invalidParams: 'invalid_params',
  internal: 'internal',
  sessionNotFound: 'session_not_found',
  sessionBusy: 'session_busy',
  checkpointFailed: 'checkpoint_failed',
  checkpointNotFound: 'checkpoint_not_found',
  sessionExists: 'session_exists',
} as const;

export interface SessionInfo {
  sessionId: string;
  name?: string;
  workspace: string;
  createdAt: string;
  modifiedAt: string;
  messageCount: number;
  firstMessage: string;
  parentSessionId?: string;
  active?: boolean;
  live?: boolean;
  tags?: string[];
  metadata?: Record<string, string>;
}

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface ContextRef {
  uri: string;
  range?: Range;
}

/** Anthropic content blocks, as the server stores and returns them. */
export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature?: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }
  | {
      type: 'tool_result';
      tool_use_id: string;
      content?: string | Array<{ type: string; text?: string }>;
      is_error?: boolean;
    }
  | { type: 'resource_link'; uri: string; name?: string }
  | { type: string; [key: string]: unknown };

export type CheckpointOperation = 'created' | 'modified' | 'deleted';

export interface CheckpointFile {
  uri?: string;
  path?: string;
  operation: CheckpointOperation;
  conflict?: boolean;
  restorable?: boolean;
}

export interface Checkpoint {
  checkpointId: string;
  entryId: string;
  turnId?: string;
  createdAt: string;
  userEntryId?: string;
  prompt?: string;
  kind?: string;
  active?: boolean;
  files: CheckpointFile[];
}

/** A reloaded tool_use block as the server titled it when it streamed (its input is in `content`). */
export interface ToolCallTitle {
  toolCallId: string;
  title: string;
  toolKind: string;
  locations: ToolCallLocation[];
}

/** One user / assistant / tool / checkpoint item of a transcript page. */
export interface TranscriptItem {
  entryId: string;
  ts?: string;
  kind: 'user' | 'assistant' | 'tool' | 'checkpoint' | 'compaction' | string;
  content?: string | ContentBlock[];
  model?: string;
  stopReason?: string;
  usage?: Usage;
  checkpointId?: string;
  turnId?: string;
  checkpointKind?: string;
  createdAt?: string;
  userEntryId?: string;
  files?: CheckpointFile[];
  summary?: string;
  /** turn_end items: the failed turn's message */
  error?: string;
  /** assistant items: the server's title and kind for each tool_use block */
  toolCalls?: ToolCallTitle[];
}

export interface TranscriptPage {
  session: SessionInfo;
  items: TranscriptItem[];
  hasMore: boolean;
}

export interface ListResult {
  sessions: SessionInfo[];
  nextCursor?: string;
}

export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  input_tokens?: number;
  output_tokens?: number;
  [key: string]: unknown;
}

export type StopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'max_turn_requests'
  | 'refusal'
  | 'cancelled'
  | 'error'
  | string;

export interface PromptParams {
  sessionId?: string;
  prompt: string | ContentBlock[];
  context?: ContextRef[];
  workDoneToken?: string | number;
}

export interface PromptResult {
  sessionId?: string;
  stopReason: StopReason;
  entryId?: string;
  checkpointId?: string;
  usage?: Usage;
  error?: string;
}

export type ToolCallStatus = 'pending' | 'in_progress' | 'completed' | 'failed' | string;

export interface ToolCallLocation {
  path: string;
  line?: number;
}

export type ToolCallContent =
  | { type: 'diff'; path: string; oldText?: string | null; newText: string }
  | { type: 'content'; content: ContentBlock }
  | { type: string; [key: string]: unknown };

export interface ToolCallFields {
  toolCallId: string;
  title?: string;
  /** The tool's kind (read, edit, execute, …); `toolKind` when `kind` is the update's tag. */
  toolKind?: string;
  status?: ToolCallStatus;
  content?: ToolCallContent[];
  locations?: ToolCallLocation[];
  rawInput?: unknown;
  rawOutput?: unknown;
}

export const UPDATE_KINDS = [
  'user_message',
  'agent_message_chunk',
  'agent_thought_chunk',
  'agent_message_end',
  'tool_call',
  'tool_call_update',
  'checkpoint',
  'usage',
  'session_info',
  'turn_end',
] as const;
export type UpdateKind = (typeof UPDATE_KINDS)[number];

/** The `update` of an `agent/session/update` notification, loosely typed: it is read defensively. */
export interface SessionUpdate {
  kind?: string;
  sessionUpdate?: string;
  [key: string]: unknown;
}

export interface SessionUpdateParams {
  sessionId: string;
  turnId?: string;
  update: SessionUpdate;
}

export interface CheckpointListResult {
  checkpoints: Checkpoint[];
}

/** An "always" answer the server remembers for a session (agent/permissions/list). */
export interface PermissionRule {
  ruleId: string;
  toolKind: string;
  decision: 'allow' | 'deny';
  description: string;
  /** Set for a shell command: the rule covers exactly this command. */
  command?: string;
}

export interface PermissionListResult {
  rules: PermissionRule[];
}

export interface PermissionRevokeResult {
  revoked: boolean;
}

export interface DiffFile {
  uri: string;
  path?: string;
  operation: CheckpointOperation;
  restorable?: boolean;
  before?: string | null;
  after?: string | null;
  diff?: string;
  hunks?: DiffHunk[];
}

/** One hunk of the agent's change, numbered from 0 (agent/checkpoint/revertHunks names them). */
export interface DiffHunk {
  index: number;
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  header: string;
}

export interface DiffResult {
  files: DiffFile[];
}

export type RestoreScope = 'files' | 'conversation' | 'both';
export type RestoreFileResult = 'restored' | 'merged' | 'conflict' | 'unchanged' | 'failed' | 'skipped' | string;

export interface RestoreResult {
  applied: boolean;
  files: Array<{ uri?: string; path?: string; operation?: CheckpointOperation; result: RestoreFileResult; reason?: string }>;
  undoCheckpointId?: string;
  leafEntryId?: string | null;
}

export type PermissionOptionKind = 'allow_once' | 'allow_always' | 'reject_once' | 'reject_always';

export interface PermissionOption {
  optionId: string;
  name: string;
  kind: PermissionOptionKind | string;
}

export interface RequestPermissionParams {
  sessionId: string;
  toolCall: Partial<ToolCallFields> & { [key: string]: unknown };
  options: PermissionOption[];
}

export type PermissionOutcome = { outcome: 'cancelled' } | { outcome: 'selected'; optionId: string };

export interface RequestPermissionResult {
  outcome: PermissionOutcome;
}

/** A full-text search hit (agent/session/search); `highlights` are UTF-16 offsets into `snippet`. */
export interface SearchHit {
  sessionId: string;
  sessionName?: string;
  workspace: string;
  entryId: string;
  role: 'user' | 'assistant' | 'thinking' | 'tool' | string;
  snippet: string;
  highlights: Array<[number, number]>;
  ts: string;
}

export interface SearchResult {
  hits: SearchHit[];
  nextCursor?: string;
}

export interface TrashResult {
  sessions: Array<SessionInfo & { deletedAt: string }>;
}

export type ExportFormat = 'markdown' | 'html' | 'jsonl' | 'bundle';

export interface ExportResult {
  path?: string;
  bytes?: number;
  content?: string;
}

export interface ImportResult {
  imported: SessionInfo[];
  skipped: number;
  problems: string[];
}

/** What the extension sends in `initializationOptions`. */
export interface InitializationOptions {
  client: string;
  permissionUi: boolean;
  model?: string;
  /** tool kind or name → ask | allow | deny, over the server's defaults */
  permissionPolicy?: Record<string, PermissionDecision>;
  sessionDir?: string;
  /** extended thinking's budget in tokens (off when absent) */
  thinkingBudget?: number;
}

export type PermissionDecision = 'ask' | 'allow' | 'deny';

/** The update's tag: `kind` per docs/protocol.md, `sessionUpdate` as ACP spells it. */
export function updateKind(update: SessionUpdate): string | undefined {
  const tag = update.kind;
  if (typeof tag === 'string' && (UPDATE_KINDS as readonly string[]).includes(tag)) {
    return tag;
  }
  return typeof update.sessionUpdate === 'string' ? update.sessionUpdate : tag;
}

/** The message of a JSON-RPC error, with `data` details when the server sent a string. */
export function errorMessage(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { message?: unknown; data?: unknown };
    const msg = typeof e.message === 'string' ? e.message : String(err);
    if (e.data && typeof e.data === 'object' && typeof (e.data as { detail?: unknown }).detail === 'string') {
      return `${msg} (${(e.data as { detail: string }).detail})`;
    }
    return msg;
  }
  return String(err);
}

/** The stable `data.kind` of a server error (`ErrorKind`), if it has one. */
export function errorKind(err: unknown): string | undefined {
  if (err && typeof err === 'object') {
    const data = (err as { data?: unknown }).data;
    if (data && typeof data === 'object' && typeof (data as { kind?: unknown }).kind === 'string') {
      return (data as { kind: string }).kind;
    }
  }
  return undefined;
}

export function errorCode(err: unknown): number | undefined {
  if (err && typeof err === 'object' && typeof (err as { code?: unknown }).code === 'number') {
    return (err as { code: number }).code;
  }
  return undefined;
}
