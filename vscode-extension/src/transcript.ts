/**
 * The chat panel's model and its reducer. The extension host owns the state (built from what the
 * server returns and streams); the webview receives a snapshot, then the same actions, and applies
 * the same reducer. No `vscode` import: unit-tested directly and bundled into the webview.
 */
import { splitUserContent } from './attachments';
import { type PromptImage, contentImages } from './images';
import {
  type CheckpointFile,
  type ContentBlock,
  type PermissionOption,
  type PromptResult,
  type RequestPermissionParams,
  type RestoreResult,
  type SessionInfo,
  type SessionUpdate,
  type SessionUpdateParams,
  type ToolCallContent,
  type ToolCallLocation,
  type TranscriptItem,
  type TranscriptPage,
  type Usage,
  updateKind,
} from './protocol';
import { type SessionUsage, addUsage, emptyUsage } from './usage';

export interface UserBlock {
  type: 'user';
  key: string;
  text: string;
  context: string[];
  /** pasted or dropped images, shown as thumbnails */
  images?: PromptImage[];
  entryId?: string;
  turnId?: string;
  pending?: boolean;
}

export interface AssistantBlock {
  type: 'assistant';
  key: string;
  text: string;
  thought: string;
  entryId?: string;
  turnId?: string;
}

export interface ToolBlock {
  type: 'tool';
  key: string;
  toolCallId: string;
  title: string;
  toolKind?: string;
  status: string;
  locations: ToolCallLocation[];
  diffs: string[];
  output?: string;
  /** a command's exit code (rawOutput), when it has one */
  exitCode?: number | null;
  turnId?: string;
}

export interface RevertState {
  status: 'running' | 'done' | 'error';
  /** true while/after undoing a revert through its undo checkpoint */
  undo?: boolean;
  result?: RestoreResult;
  error?: string;
}

export interface CheckpointBlock {
  type: 'checkpoint';
  key: string;
  checkpointId: string;
  checkpointKind: string;
  turnId?: string;
  entryId?: string;
  files: Array<{ path: string; uri?: string; operation: string }>;
  revert?: RevertState;
}

export interface NoticeBlock {
  type: 'notice';
  key: string;
  level: 'info' | 'warning' | 'error';
  text: string;
  /** the stop reason a turn's end notice says (a `turn_end` marker replaces it) */
  stop?: string;
}

/** A failed or cancelled turn's marker (`turn_end`), the same live and after a reload. */
export interface TurnEndBlock {
  type: 'turnEnd';
  key: string;
  entryId?: string;
  stopReason: string;
  error?: string;
}

export type Block = UserBlock | AssistantBlock | ToolBlock | CheckpointBlock | NoticeBlock | TurnEndBlock;

export type RewindScope = 'both' | 'conversation' | 'files';

/** A rewind to before a user message: its plan when something conflicts, then its result. */
export interface RewindState {
  entryId: string;
  scope: RewindScope;
  /** the message's text, shortened */
  label: string;
  status: 'running' | 'plan' | 'done' | 'error' | 'undone';
  result?: RestoreResult;
  error?: string;
}

export interface PendingPermission {
  requestId: string;
  sessionId: string;
  title: string;
  toolKind?: string;
  detail?: string;
  options: PermissionOption[];
  /** an edit under review: each file's +/- line counts (the diff editor shows the change) */
  diffs?: Array<{ path: string; added: number; removed: number }>;
}

export type ConnectionStatus = 'starting' | 'ready' | 'failed' | 'stopped';

export interface ChatState {
  connection: ConnectionStatus;
  connectionError?: string;
  session?: SessionInfo;
  sessions: SessionInfo[];
  blocks: Block[];
  hasMore: boolean;
  running: boolean;
  turnId?: string;
  progress?: string;
  usage?: Usage;
  /** the session's running totals, from the loaded transcript and every live model call */
  sessionUsage: SessionUsage;
  permissions: PendingPermission[];
  rewind?: RewindState;
  /** the entry a search hit opened the session at (the panel scrolls to it) */
  focusEntryId?: string;
  /** next key number; part of the state so host and webview assign the same keys */
  seq: number;
}

export type ChatAction =
  | { type: 'snapshot'; state: ChatState }
  | { type: 'connection'; status: ConnectionStatus; error?: string }
  | { type: 'reset'; page: TranscriptPage; running?: boolean; focusEntryId?: string }
  | { type: 'prepend'; sessionId: string; items: TranscriptItem[]; hasMore: boolean }
  | { type: 'sessions'; sessions: SessionInfo[] }
  | { type: 'sessionInfo'; session: SessionInfo }
  | { type: 'update'; params: SessionUpdateParams }
  | { type: 'promptStarted'; text: string; context?: string[]; images?: PromptImage[] }
  | { type: 'promptEnded'; result?: PromptResult; error?: string }
  | { type: 'progress'; message?: string }
  | { type: 'revertStarted'; checkpointId: string; undo?: boolean }
  | { type: 'revertResult'; checkpointId: string; undo?: boolean; result?: RestoreResult; error?: string }
  | { type: 'permissionRequest'; requestId: string; params: RequestPermissionParams }
  | { type: 'permissionResolved'; requestId: string }
  | { type: 'notice'; level: NoticeBlock['level']; text: string }
  | { type: 'rewind'; rewind: RewindState | undefined }
  | { type: 'revertDismissed'; checkpointId: string }
  /** edit and resend: the message and what followed it leave the view */
  | { type: 'truncate'; entryId: string };

export function initialState(): ChatState {
  return {
    connection: 'starting',
    sessions: [],
    blocks: [],
    hasMore: false,
    running: false,
    sessionUsage: emptyUsage(),
    permissions: [],
    seq: 0,
  };
}

/** The usage of a page of transcript items, oldest first. */
export function itemsUsage(items: TranscriptItem[], start: SessionUsage = emptyUsage()): SessionUsage {
  let total = start;
  for (const item of items) if (item.kind === 'assistant' && item.usage) total = addUsage(total, item.usage, item.model);
  return total;
}

/** An earlier page's usage under the totals so far: sums add, the context stays the latest call's. */
function withEarlier(later: SessionUsage, earlier: SessionUsage): SessionUsage {
  if (!earlier.calls) return later;
  if (!later.calls) return earlier;
  return {
    inputTokens: later.inputTokens + earlier.inputTokens,
    outputTokens: later.outputTokens + earlier.outputTokens,
    cacheReadTokens: later.cacheReadTokens + earlier.cacheReadTokens,
    cacheWriteTokens: later.cacheWriteTokens + earlier.cacheWriteTokens,
    cost: later.cost === undefined || earlier.cost === undefined ? undefined : later.cost + earlier.cost,
    contextTokens: later.contextTokens,
    model: later.model ?? earlier.model,
    calls: later.calls + earlier.calls,
  };
}

/** Plain text of a content value: a string, one block, or a list of blocks. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map(contentText).filter((t) => t !== '').join('');
  if (content && typeof content === 'object') {
    const c = content as Record<string, unknown>;
    if (typeof c.text === 'string') return c.text;
    if (c.type === 'content' && c.content) return contentText(c.content);
    if (c.type === 'tool_result') return contentText(c.content);
  }
  return '';
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function baseName(p: string): string {
  const parts = p.split(/[\\/]/);
  return parts[parts.length - 1] || p;
}

function clip(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}

function checkpointFiles(files: CheckpointFile[] | undefined): CheckpointBlock['files'] {
  return (files ?? []).map((f) => ({
    path: f.path ?? f.uri ?? '',
    uri: f.uri,
    operation: f.operation ?? 'modified',
  }));
}

function key(state: { seq: number }, prefix: string): string {
  state.seq += 1;
  return `${prefix}${state.seq}`;
}

/** Transcript items (one page from switch/resumeRecent/history) → blocks. */
export function itemsToBlocks(items: TranscriptItem[], counter: { seq: number }): Block[] {
  const blocks: Block[] = [];
  const tools = new Map<string, ToolBlock>();
  for (const item of items) {
    const content = item.content;
    if (item.kind === 'user') {
      const list: ContentBlock[] = typeof content === 'string' ? [{ type: 'text', text: content }] : (content ?? []);
      const { text, context: attached } = splitUserContent(list);
      const context = [
        ...attached,
        ...list
          .filter((b) => b.type === 'resource_link')
          .map((b) => str((b as { uri?: unknown }).uri) ?? '')
          .filter(Boolean),
      ];
      const images = contentImages(list);
      // Tool results the server stores under the user role belong to their tool calls.
      for (const b of list) if (b.type === 'tool_result') applyToolResult(tools, b as ContentBlock);
      if (text || context.length || images.length) {
        const user: UserBlock = { type: 'user', key: key(counter, 'u'), text, context, entryId: item.entryId, turnId: item.turnId };
        if (images.length) user.images = images;
        blocks.push(user);
      }
    } else if (item.kind === 'assistant') {
      const list: ContentBlock[] = typeof content === 'string' ? [{ type: 'text', text: content }] : (content ?? []);
      let current: AssistantBlock | undefined;
      for (const b of list) {
        if (b.type === 'text' || b.type === 'thinking') {
          if (!current) {
            current = { type: 'assistant', key: key(counter, 'a'), text: '', thought: '', entryId: item.entryId };
            blocks.push(current);
          }
          if (b.type === 'text') current.text += contentText(b);
          else current.thought += str((b as { thinking?: unknown }).thinking) ?? '';
        } else if (b.type === 'tool_use') {
          // The server titles each tool_use block in `toolCalls`, as it titled the live call.
          const use = b as { id: string; name: string };
          const call = (item.toolCalls ?? []).find((c) => c.toolCallId === use.id);
          const tool: ToolBlock = {
            type: 'tool',
            key: key(counter, 't'),
            toolCallId: use.id,
            title: call?.title ?? use.name,
            toolKind: call?.toolKind,
            status: 'completed',
            locations: call?.locations ?? [],
            diffs: [],
          };
          tools.set(use.id, tool);
          blocks.push(tool);
          current = undefined;
        }
      }
    } else if (item.kind === 'tool') {
      const list = Array.isArray(content) ? content : [];
      for (const b of list) applyToolResult(tools, b);
    } else if (item.kind === 'checkpoint' && item.checkpointId) {
      blocks.push({
        type: 'checkpoint',
        key: key(counter, 'c'),
        checkpointId: item.checkpointId,
        checkpointKind: item.checkpointKind ?? 'turn',
        turnId: item.turnId,
        entryId: item.entryId,
        files: checkpointFiles(item.files),
      });
    } else if (item.kind === 'turn_end') {
      blocks.push(turnEndBlock(counter, item as unknown as Record<string, unknown>));
    } else if (item.kind === 'compaction') {
      blocks.push({ type: 'notice', key: key(counter, 'n'), level: 'info', text: 'Earlier messages were summarized.' });
    }
  }
  return blocks;
}

function turnEndBlock(counter: { seq: number }, item: Record<string, unknown>): TurnEndBlock {
  return {
    type: 'turnEnd',
    key: key(counter, 'e'),
    entryId: str(item.entryId),
    stopReason: str(item.stopReason) ?? 'error',
    error: str(item.error),
  };
}

function applyToolResult(tools: Map<string, ToolBlock>, b: ContentBlock): void {
  if (b.type !== 'tool_result') return;
  const r = b as { tool_use_id: string; is_error?: boolean; content?: unknown };
  const tool = tools.get(r.tool_use_id);
  if (!tool) return;
  tool.status = r.is_error ? 'failed' : 'completed';
  const out = contentText(r.content);
  if (out) tool.output = out;
}

function lastIndex<T>(list: T[], pred: (x: T) => boolean): number {
  for (let i = list.length - 1; i >= 0; i -= 1) if (pred(list[i])) return i;
  return -1;
}

function replaceAt(blocks: Block[], index: number, block: Block): Block[] {
  const out = blocks.slice();
  out[index] = block;
  return out;
}

function toolFields(update: SessionUpdate): Partial<ToolBlock> & { toolCallId?: string } {
  const out: Partial<ToolBlock> & { toolCallId?: string } = {};
  const id = str(update.toolCallId);
  if (id) out.toolCallId = id;
  const title = str(update.title);
  if (title !== undefined) out.title = title;
  const tk = str(update.toolKind) ?? (updateKind(update) === update.kind ? undefined : str(update.kind));
  if (tk) out.toolKind = tk;
  const status = str(update.status);
  if (status) out.status = status;
  if (Array.isArray(update.locations) && update.locations.length) out.locations = update.locations as ToolCallLocation[];
  if (Array.isArray(update.content)) {
    const content = update.content as ToolCallContent[];
    const diffs = content.filter((c) => c.type === 'diff').map((c) => String((c as { path?: unknown }).path ?? ''));
    if (diffs.length) out.diffs = diffs;
    const text = content
      .filter((c) => c.type !== 'diff')
      .map((c) => contentText(c))
      .join('\n');
    if (text) out.output = text;
  }
  const raw = update.rawOutput as { exitCode?: unknown } | undefined;
  if (raw && typeof raw === 'object' && (typeof raw.exitCode === 'number' || raw.exitCode === null)) out.exitCode = raw.exitCode;
  return out;
}

function applyUpdate(state: ChatState, params: SessionUpdateParams): ChatState {
  if (!state.session || params.sessionId !== state.session.sessionId) return state;
  const update = params.update ?? {};
  const turnId = params.turnId;
  const kind = updateKind(update);
  const next: ChatState = { ...state };
  if (turnId && state.running) next.turnId = turnId;
  switch (kind) {
    case 'user_message': {
      const raw = update.content ?? update.text ?? update.prompt;
      const { text, context } = Array.isArray(raw) ? splitUserContent(raw as ContentBlock[]) : { text: contentText(raw), context: [] };
      const images = Array.isArray(raw) ? contentImages(raw as ContentBlock[]) : [];
      const i = lastIndex(state.blocks, (b) => b.type === 'user' && !!b.pending);
      if (i >= 0) {
        const pending = state.blocks[i] as UserBlock;
        const user: UserBlock = {
          ...pending,
          text: text || pending.text,
          context: pending.context.length ? pending.context : context,
          pending: false,
          turnId,
          entryId: str(update.entryId) ?? pending.entryId,
        };
        if (!pending.images?.length && images.length) user.images = images;
        next.blocks = replaceAt(state.blocks, i, user);
      } else {
        const user: UserBlock = { type: 'user', key: key(next, 'u'), text, context, turnId, entryId: str(update.entryId) };
        if (images.length) user.images = images;
        next.blocks = [...state.blocks, user];
      }
      return next;
    }
    case 'agent_message_chunk':
    case 'agent_thought_chunk': {
      const text = contentText(update.content ?? update.text);
      if (!text) return state;
      const thought = kind === 'agent_thought_chunk';
      const last = state.blocks[state.blocks.length - 1];
      if (last && last.type === 'assistant' && last.turnId === turnId) {
        next.blocks = replaceAt(state.blocks, state.blocks.length - 1, {
          ...last,
          text: thought ? last.text : last.text + text,
          thought: thought ? last.thought + text : last.thought,
        });
      } else {
        next.blocks = [
          ...state.blocks,
          {
            type: 'assistant',
            key: key(next, 'a'),
            text: thought ? '' : text,
            thought: thought ? text : '',
            turnId,
          },
        ];
      }
      return next;
    }
    case 'tool_call':
    case 'tool_call_update': {
      const fields = toolFields(update);
      if (!fields.toolCallId) return state;
      const i = state.blocks.findIndex((b) => b.type === 'tool' && b.toolCallId === fields.toolCallId);
      if (i >= 0) {
        const old = state.blocks[i] as ToolBlock;
        next.blocks = replaceAt(state.blocks, i, {
          ...old,
          ...fields,
          diffs: fields.diffs ?? old.diffs,
          locations: fields.locations ?? old.locations,
        } as ToolBlock);
      } else {
        next.blocks = [
          ...state.blocks,
          {
            type: 'tool',
            key: key(next, 't'),
            toolCallId: fields.toolCallId,
            title: fields.title ?? 'Tool call',
            toolKind: fields.toolKind,
            status: fields.status ?? 'pending',
            locations: fields.locations ?? [],
            diffs: fields.diffs ?? [],
            output: fields.output,
            ...(fields.exitCode !== undefined ? { exitCode: fields.exitCode } : {}),
            turnId,
          },
        ];
      }
      return next;
    }
    case 'checkpoint': {
      const cp = (update.checkpoint && typeof update.checkpoint === 'object' ? update.checkpoint : update) as Record<
        string,
        unknown
      >;
      const checkpointId = str(cp.checkpointId);
      if (!checkpointId) return state;
      if (state.blocks.some((b) => b.type === 'checkpoint' && b.checkpointId === checkpointId)) return state;
      next.blocks = [
        ...state.blocks,
        {
          type: 'checkpoint',
          key: key(next, 'c'),
          checkpointId,
          checkpointKind: str(cp.checkpointKind) ?? str(cp.kind === 'checkpoint' ? undefined : cp.kind) ?? 'turn',
          turnId: str(cp.turnId) ?? turnId,
          entryId: str(cp.entryId),
          files: checkpointFiles(cp.files as CheckpointFile[] | undefined),
        },
      ];
      return next;
    }
    case 'agent_message_end': {
      const entryId = str(update.entryId);
      const i = lastIndex(state.blocks, (b) => b.type === 'assistant' && b.turnId === turnId && !b.entryId);
      if (!entryId || i < 0) return state;
      next.blocks = replaceAt(state.blocks, i, { ...(state.blocks[i] as AssistantBlock), entryId });
      return next;
    }
    case 'usage': {
      const usage = (update.usage && typeof update.usage === 'object' ? update.usage : update) as Usage;
      next.usage = usage;
      next.sessionUsage = addUsage(state.sessionUsage, usage, str(update.model));
      return next;
    }
    case 'turn_end': {
      const block = turnEndBlock(next, update);
      if (block.entryId && state.blocks.some((b) => b.type === 'turnEnd' && b.entryId === block.entryId)) return state;
      // The answer to the prompt may have said it already: the marker takes the notice's place.
      const i = lastIndex(state.blocks, (b) => b.type === 'notice' && b.stop === block.stopReason);
      next.blocks = i >= 0 && i === state.blocks.length - 1 ? replaceAt(state.blocks, i, block) : [...state.blocks, block];
      return next;
    }
    case 'session_info': {
      const name = str(update.name) ?? str((update.session as { name?: unknown } | undefined)?.name);
      if (name === undefined) return state;
      next.session = { ...state.session, name };
      next.sessions = state.sessions.map((s) => (s.sessionId === state.session?.sessionId ? { ...s, name } : s));
      return next;
    }
    default:
      return state;
  }
}

function updateCheckpoint(state: ChatState, checkpointId: string, f: (b: CheckpointBlock) => CheckpointBlock): ChatState {
  const i = state.blocks.findIndex((b) => b.type === 'checkpoint' && b.checkpointId === checkpointId);
  if (i < 0) return state;
  return { ...state, blocks: replaceAt(state.blocks, i, f(state.blocks[i] as CheckpointBlock)) };
}

const STOP_NOTICES: Record<string, { level: NoticeBlock['level']; text: string }> = {
  cancelled: { level: 'warning', text: 'Cancelled.' },
  max_tokens: { level: 'warning', text: 'The reply was cut off (max tokens).' },
  refusal: { level: 'warning', text: 'The model declined to answer.' },
  error: { level: 'error', text: 'The turn failed.' },
};

export function reduce(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'snapshot':
      return action.state;
    case 'connection':
      return { ...state, connection: action.status, connectionError: action.error };
    case 'reset': {
      const next: ChatState = { ...state, session: action.page.session, hasMore: action.page.hasMore, focusEntryId: action.focusEntryId };
      next.blocks = itemsToBlocks(action.page.items, next);
      if (state.session?.sessionId !== action.page.session.sessionId) next.rewind = undefined;
      next.sessionUsage = itemsUsage(action.page.items);
      next.running = !!action.running;
      if (!next.running) {
        next.turnId = undefined;
        next.progress = undefined;
      }
      if (state.session?.sessionId !== action.page.session.sessionId) next.usage = undefined;
      next.permissions = state.permissions.filter((p) => p.sessionId === action.page.session.sessionId);
      next.sessions = state.sessions.map((s) =>
        s.sessionId === action.page.session.sessionId ? action.page.session : { ...s, active: false },
      );
      return next;
    }
    case 'prepend': {
      if (state.session?.sessionId !== action.sessionId) return state;
      const next: ChatState = { ...state, hasMore: action.hasMore };
      next.blocks = [...itemsToBlocks(action.items, next), ...state.blocks];
      next.sessionUsage = withEarlier(state.sessionUsage, itemsUsage(action.items));
      return next;
    }
    case 'sessions': {
      const current = state.session && action.sessions.find((s) => s.sessionId === state.session?.sessionId);
      return { ...state, sessions: action.sessions, session: current ? { ...state.session, ...current } : state.session };
    }
    case 'sessionInfo': {
      const s = action.session;
      const sessions = state.sessions.map((x) => (x.sessionId === s.sessionId ? { ...x, ...s } : x));
      const session = state.session?.sessionId === s.sessionId ? { ...state.session, ...s } : state.session;
      return { ...state, sessions, session };
    }
    case 'update':
      return applyUpdate(state, action.params);
    case 'promptStarted': {
      const next: ChatState = { ...state, running: true, progress: undefined, turnId: undefined, rewind: undefined, focusEntryId: undefined };
      next.blocks = [
        ...state.blocks,
        {
          type: 'user',
          key: key(next, 'u'),
          text: action.text,
          context: action.context ?? [],
          ...(action.images?.length ? { images: action.images } : {}),
          pending: true,
        },
      ];
      return next;
    }
    case 'promptEnded': {
      const next: ChatState = { ...state, running: false, progress: undefined };
      const turnId = state.turnId;
      const stop = action.result?.stopReason;
      let blocks = state.blocks.map((b) =>
        b.type === 'user' && b.pending
          ? { ...b, pending: false }
          : b.type === 'tool' && (b.status === 'pending' || b.status === 'in_progress') && (!turnId || b.turnId === turnId)
            ? { ...b, status: stop === 'end_turn' ? 'completed' : 'failed' }
            : b,
      );
      const notice = action.error
        ? { level: 'error' as const, text: action.error }
        : stop && STOP_NOTICES[stop]
          ? {
              ...STOP_NOTICES[stop],
              text: action.result?.error ? `${STOP_NOTICES[stop].text} ${action.result.error}` : STOP_NOTICES[stop].text,
            }
          : undefined;
      const marked = blocks[blocks.length - 1]?.type === 'turnEnd';
      if (notice && !marked) blocks = [...blocks, { type: 'notice', key: key(next, 'n'), ...notice, stop: action.error ? undefined : stop }];
      next.blocks = blocks;
      next.turnId = undefined;
      if (action.result?.usage) next.usage = action.result.usage;
      return next;
    }
    case 'progress':
      return { ...state, progress: action.message };
    case 'revertStarted':
      return updateCheckpoint(state, action.checkpointId, (b) => ({
        ...b,
        revert: { ...b.revert, status: 'running', undo: action.undo, error: undefined },
      }));
    case 'revertResult':
      return updateCheckpoint(state, action.checkpointId, (b) => ({
        ...b,
        revert: action.error
          ? { ...b.revert, status: 'error', undo: action.undo, error: action.error }
          : { status: 'done', undo: action.undo, result: action.result ?? b.revert?.result },
      }));
    case 'permissionRequest': {
      const p = action.params;
      const tc = p.toolCall ?? {};
      const detail = Array.isArray(tc.content) ? contentText(tc.content.filter((c) => c.type !== 'diff')) : undefined;
      const raw = (tc as { rawInput?: { command?: unknown } }).rawInput;
      const diffs = reviewDiffs(tc.content);
      return {
        ...state,
        permissions: [
          ...state.permissions,
          {
            requestId: action.requestId,
            sessionId: p.sessionId,
            title: str(tc.title) ?? 'The agent wants to use a tool',
            toolKind: str(tc.toolKind) ?? str((tc as { kind?: unknown }).kind),
            detail: detail || str(raw?.command),
            options: p.options ?? [],
            ...(diffs.length ? { diffs: diffs.map(({ path, added, removed }) => ({ path, added, removed })) } : {}),
          },
        ],
      };
    }
    case 'permissionResolved':
      return { ...state, permissions: state.permissions.filter((p) => p.requestId !== action.requestId) };
    case 'rewind':
      return { ...state, rewind: action.rewind };
    case 'revertDismissed':
      return updateCheckpoint(state, action.checkpointId, (b) => ({ ...b, revert: undefined }));
    case 'truncate': {
      const i = state.blocks.findIndex((b) => b.type === 'user' && b.entryId === action.entryId);
      return i < 0 ? state : { ...state, blocks: state.blocks.slice(0, i) };
    }
    case 'notice': {
      const next: ChatState = { ...state };
      next.blocks = [...state.blocks, { type: 'notice', key: key(next, 'n'), level: action.level, text: action.text }];
      return next;
    }
    default:
      return state;
  }
}

/** The diffs of an edit under review (`toolCall.content` entries of type diff). */
export function reviewDiffs(content: unknown): Array<{ path: string; added: number; removed: number; oldText: string | null; newText: string }> {
  if (!Array.isArray(content)) return [];
  const lines = (t: string): string[] => (t ? t.replace(/\n$/, '').split('\n') : []);
  return (content as ToolCallContent[])
    .filter((c): c is { type: 'diff'; path: string; oldText?: string | null; newText: string } => c.type === 'diff' && typeof (c as { path?: unknown }).path === 'string')
    .map((c) => {
      const before = lines(c.oldText ?? '');
      const after = lines(c.newText ?? '');
      // Lines only in one side, by a longest-common-subsequence-free count: shared prefix and suffix.
      let start = 0;
      while (start < before.length && start < after.length && before[start] === after[start]) start += 1;
      let end = 0;
      while (end < before.length - start && end < after.length - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end += 1;
      return { path: c.path, added: after.length - start - end, removed: before.length - start - end, oldText: c.oldText ?? null, newText: c.newText ?? '' };
    });
}

/** The label a session is shown by: its name, else its first message, else "New session". */
export function sessionLabel(s: Pick<SessionInfo, 'name' | 'firstMessage'> | undefined): string {
  if (!s) return 'No session';
  const name = s.name?.trim();
  if (name) return name;
  const first = s.firstMessage?.trim();
  return first ? clip(first, 60) : 'New session';
}

export { baseName };

/** The oldest entry id shown, the `before` cursor of `agent/session/history`. */
export function oldestEntryId(blocks: Block[]): string | undefined {
  for (const b of blocks) if ('entryId' in b && b.entryId) return b.entryId;
  return undefined;
}
