/**
 * The chat panel's script. It holds no transcript of its own across reloads: the extension host
 * sends a snapshot of the session (restored from the server) on `ready`, then actions, and this
 * script applies the shared reducer and renders. Only the unsent draft (and the selection chip's
 * switch, once on) is kept in webview state.
 */
import type { PromptImage } from '../images';
import type { Attachment, HostMessage, PanelConfig, WebviewMessage } from '../messages';
import { relativeTime, messageCount } from '../relativeTime';
import {
  type Block,
  type ChatAction,
  type ChatState,
  type CheckpointBlock,
  type PendingPermission,
  type ToolBlock,
  type UserBlock,
  baseName,
  initialState,
  reduce,
  sessionLabel,
} from '../transcript';
import { usageSummary } from '../usage';
import { codeBlockAction } from './codeBlocks';
import { button, h } from './dom';
import { imageChip, messageImages, readImages } from './imageInput';
import { MarkdownView } from './markdownView';
import { MentionList, mentionAt } from './mentions';
import { conflictChoices, resultLabel, rewindView, turnEnd, userActions } from './turnControls';

interface PanelState {
  draft?: string;
  /** files and selections attached to the draft */
  attachments?: Attachment[];
  /** whether the editor's selection goes along with a prompt (the chip's toggle) */
  attachSelection?: boolean;
}

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): PanelState | undefined;
  setState(state: PanelState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
let state: ChatState = initialState();

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const transcript = $<HTMLElement>('transcript');
const empty = $<HTMLElement>('empty');
const banner = $<HTMLElement>('banner');
const select = $<HTMLSelectElement>('session-select');
const newButton = $<HTMLButtonElement>('new-session');
const permissions = $<HTMLElement>('permissions');
const prompt = $<HTMLTextAreaElement>('prompt');
const send = $<HTMLButtonElement>('send');
const cancel = $<HTMLButtonElement>('cancel');
const status = $<HTMLElement>('status');
const jumpLatest = $<HTMLButtonElement>('jump-latest');
const announcer = $<HTMLElement>('announcer');
const editorContext = $<HTMLElement>('editor-context');
const attachmentsRow = $<HTMLElement>('attachments');
const imageProblemEl = $<HTMLElement>('image-problem');
const modelSelect = $<HTMLSelectElement>('model-select');
const thinking = $<HTMLButtonElement>('thinking');
const sessionUsage = $<HTMLElement>('session-usage');
const editingBar = $<HTMLElement>('editing');
const editRevertFiles = $<HTMLInputElement>('edit-revert-files');
const searchButton = $<HTMLButtonElement>('search-sessions');

const post = (m: WebviewMessage): void => vscode.postMessage(m);

// ---------------------------------------------------------------------------------------------
// Blocks

const STATUS_ICON: Record<string, string> = {
  pending: '○',
  in_progress: '◌',
  completed: '✓',
  failed: '✗',
};

function renderUser(b: Extract<Block, { type: 'user' }>): HTMLElement {
  const body = h('div', { class: 'body plain' }, b.text);
  const chips = b.context.length
    ? h('div', { class: 'context' }, ...b.context.map((c) => h('span', { class: 'chip', title: c }, baseName(c))))
    : undefined;
  return h(
    'div',
    { class: `msg user${b.pending ? ' pending' : ''}`, 'data-key': b.key, 'data-entry-id': b.entryId },
    h('div', { class: 'role' }, 'You'),
    body,
    messageImages(b.images ?? []),
    chips,
    userActions(b, post, startEditing),
  );
}

/** An assistant message, updated in place: a streamed chunk re-renders only the reply's last block. */
function renderAssistant(b: Extract<Block, { type: 'assistant' }>, streaming: boolean, prev?: Rendered): Rendered {
  const markdown = prev?.markdown ?? new MarkdownView();
  const el = prev?.el ?? h('div', { 'data-key': b.key }, h('div', { class: 'role' }, 'Agent'));
  if (b.entryId) el.dataset.entryId = b.entryId;
  if (!prev || prev.streaming !== streaming) el.className = `msg assistant${streaming ? ' streaming' : ''}`;
  let thought = prev?.thought;
  if (b.thought) {
    if (!thought) {
      thought = h('div', { class: 'body plain' });
      el.insertBefore(h('details', { class: 'thought' }, h('summary', {}, 'Thinking'), thought), markdown.element.parentNode ? markdown.element : null);
    }
    if (thought.textContent !== b.thought) thought.textContent = b.thought;
  } else if (thought) {
    thought.parentElement?.remove();
    thought = undefined;
  }
  markdown.update(b.text, streaming);
  if (!markdown.element.parentNode) el.append(markdown.element);
  return { block: b, streaming, el, markdown, thought };
}

function renderTool(b: ToolBlock): HTMLElement {
  const icon = h('span', { class: 'status-icon', 'aria-hidden': 'true' }, STATUS_ICON[b.status] ?? '•');
  const title = h('span', { class: 'title' }, b.title);
  const row = h('div', { class: 'tool-row' }, icon, title, h('span', { class: 'visually-hidden' }, ` (${b.status})`));
  const el = h('div', {
    class: `tool status-${b.status}`,
    'data-key': b.key,
    'data-status': b.status,
    'data-tool-call-id': b.toolCallId,
    role: 'group',
    'aria-label': `Tool call: ${b.title}, ${b.status}`,
  });
  el.append(row);
  const files = [...new Set([...b.diffs, ...b.locations.map((l) => l.path)])].filter(Boolean);
  if (files.length) {
    const list = h('div', { class: 'tool-files' });
    for (const f of files) {
      const loc = b.locations.find((l) => l.path === f);
      list.append(button(baseName(f), () => post({ type: 'openFile', path: f, line: loc?.line }), { class: 'link', title: f }));
    }
    el.append(list);
  }
  if (b.output) {
    const out = b.output.length > 4000 ? `${b.output.slice(0, 4000)}\n…` : b.output;
    const exit = typeof b.exitCode === 'number' ? ` (exit ${b.exitCode})` : b.exitCode === null ? ' (killed)' : '';
    const details = h('details', { class: 'tool-output' }, h('summary', {}, `Output${exit}`), h('pre', {}, out));
    // A command's output is what the reply talks about: shown open, a failure's too.
    if (b.toolKind === 'execute' || b.status === 'failed') details.open = true;
    el.append(details);
  }
  return el;
}

function renderCheckpoint(b: CheckpointBlock): HTMLElement {
  const el = h('div', { class: 'checkpoint', 'data-key': b.key, 'data-checkpoint-id': b.checkpointId, role: 'group' });
  const n = b.files.length;
  const files = `${n} file${n === 1 ? '' : 's'}`;
  const turn = b.checkpointKind === 'turn';
  const label = turn
    ? `Checkpoint · ${files} changed`
    : b.checkpointKind === 'undo'
      ? `Undo point (saved before a revert) · ${files}`
      : `Checkpoint (${b.checkpointKind}) · ${files}`;
  el.setAttribute('aria-label', label);
  el.append(h('div', { class: 'checkpoint-title' }, label));
  if (n) {
    const list = h('ul', { class: 'checkpoint-files' });
    for (const f of b.files) {
      list.append(
        h(
          'li',
          {},
          button(baseName(f.path), () => post({ type: 'viewChanges', checkpointId: b.checkpointId, path: f.path }), {
            class: 'link',
            title: `${f.path} (${f.operation}): view changes`,
          }),
          h('span', { class: `op op-${f.operation}` }, f.operation),
        ),
      );
    }
    el.append(list);
  }
  const actions = h('div', { class: 'checkpoint-actions' });
  const r = b.revert;
  const busy = r?.status === 'running';
  if (n) actions.append(button('View changes', () => post({ type: 'viewChanges', checkpointId: b.checkpointId }), { class: 'secondary view-changes' }));
  const revert = button(busy ? 'Reverting…' : turn ? 'Revert' : 'Restore', () => post({ type: 'revert', checkpointId: b.checkpointId }), {
    class: 'secondary revert',
    title: turn ? 'Restore the files as they were before this turn' : 'Put the files back as they were before that revert',
  });
  revert.disabled = busy || n === 0;
  actions.append(revert);
  el.append(actions);
  if (r?.status === 'error') {
    el.append(h('div', { class: 'revert-result error', role: 'status' }, r.error ?? 'Revert failed.'));
  } else if (r?.status === 'done' && r.result) {
    const res = r.result;
    const conflicts = res.files.filter((f) => f.result === 'conflict').length;
    const plan = !res.applied && conflicts > 0 && !r.undo;
    const summary = r.undo
      ? 'Revert undone.'
      : res.applied
        ? 'Reverted.'
        : plan
          ? `Nothing was reverted: ${conflicts} file${conflicts === 1 ? '' : 's'} changed since this turn. Reverting would:`
          : 'Nothing was reverted.';
    const box = h('div', { class: 'revert-result', role: 'status' }, h('div', { class: 'summary' }, summary));
    const list = h('ul', {});
    for (const f of res.files) {
      const p = f.path ?? f.uri ?? '';
      // Reverting a turn that created a file deletes it: say so, not "restored".
      const created = b.files.some((c) => c.operation === 'created' && (c.path === f.path || c.path === p || p.endsWith(`/${c.path}`)));
      const label = f.result === 'restored' && created && !r.undo ? 'deleted (this turn created it)' : resultLabel(f.result);
      list.append(
        h(
          'li',
          { class: `result-${f.result}` },
          h('span', { class: 'file' }, baseName(p)),
          ` — ${label}${f.reason ? ` (${f.reason})` : ''}`,
        ),
      );
    }
    box.append(list);
    if (plan) {
      // All or nothing: nothing was written; the user picks what happens.
      box.append(
        conflictChoices(
          () => post({ type: 'revert', checkpointId: b.checkpointId, partial: true }),
          () => post({ type: 'revert', checkpointId: b.checkpointId, force: true }),
          () => post({ type: 'dismissRevert', checkpointId: b.checkpointId }),
        ),
      );
    }
    const more = h('div', { class: 'checkpoint-actions' });
    if (res.applied && res.files.some((f) => f.result === 'conflict') && !r.undo) {
      more.append(
        button('Revert anyway', () => post({ type: 'revert', checkpointId: b.checkpointId, force: true }), {
          class: 'secondary force',
          title: 'Overwrite the files that changed since this turn',
        }),
      );
    }
    if (res.undoCheckpointId && !r.undo) {
      const undoId = res.undoCheckpointId;
      more.append(
        button('Undo', () => post({ type: 'undo', checkpointId: b.checkpointId, undoCheckpointId: undoId }), {
          class: 'secondary undo',
          title: 'Put back what the revert overwrote',
        }),
      );
    }
    if (more.childElementCount) box.append(more);
    el.append(box);
  }
  return el;
}

function renderNotice(b: Extract<Block, { type: 'notice' }>): HTMLElement {
  const el = h('div', { class: `notice ${b.level}`, 'data-key': b.key, role: b.level === 'error' ? 'alert' : 'status' }, b.text);
  // A missing or rejected key ("No API key…", "The API key was rejected (401…)") comes with its fix.
  if (b.level !== 'info' && /\bAPI key\b/i.test(b.text)) {
    el.append(h('div', { class: 'notice-actions' }, button('Set API Key', () => post({ type: 'setApiKey' }), { class: 'set-api-key' })));
  }
  return el;
}

function renderBlock(b: Exclude<Block, { type: 'assistant' }>): HTMLElement {
  switch (b.type) {
    case 'user':
      return renderUser(b);
    case 'tool':
      return renderTool(b);
    case 'checkpoint':
      return renderCheckpoint(b);
    case 'notice':
      return renderNotice(b);
    case 'turnEnd':
      return turnEnd(b, b === state.blocks[state.blocks.length - 1], post);
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering with keyed reuse: a block's element is rebuilt only when the block object changed
// (an assistant message is updated in place instead).

interface Rendered {
  block: Block;
  streaming: boolean;
  el: HTMLElement;
  markdown?: MarkdownView;
  /** an assistant message's thinking text */
  thought?: HTMLElement;
}

const rendered = new Map<string, Rendered>();
let rewindEl: HTMLElement | undefined;
let renderedRewind: ChatState['rewind'];
let loadMore: HTMLElement | undefined;

// The transcript follows its end while the user is there. Whether they are is learnt from their
// scrolling, so a render never measures the layout first; the scroll to the end waits for the next
// frame, one per frame however many chunks arrive.
let followEnd = true;
let endScrollTop = -1;
let endScrollQueued = false;

transcript.addEventListener(
  'scroll',
  () => {
    if (transcript.scrollTop === endScrollTop) return; // our own scroll to the end
    followEnd = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 40;
    jumpLatest.hidden = followEnd;
  },
  { passive: true },
);

/** Back to the end and following it (the user sent a prompt, or asked to). */
function followFromNow(): void {
  followEnd = true;
  jumpLatest.hidden = true;
  keepAtEnd();
}

jumpLatest.addEventListener('click', () => {
  followFromNow();
  prompt.focus();
});

/** Screen readers hear each finished reply once, not every streamed chunk (the log itself is silent). */
function announce(action: ChatAction): void {
  if (action.type !== 'promptEnded') return;
  const reply = [...state.blocks].reverse().find((b) => b.type === 'assistant' || b.type === 'notice');
  const text = reply && 'text' in reply ? reply.text : '';
  announcer.textContent = action.error ? `Agent: ${action.error}` : `Agent replied: ${text.slice(0, 500)}`;
}

/** A search hit opened the session: scroll to its message and mark it, instead of the end. */
function showEntry(entryId: string): void {
  const el = transcript.querySelector<HTMLElement>(`[data-entry-id="${CSS.escape(entryId)}"]`);
  if (!el) return;
  followEnd = false;
  jumpLatest.hidden = false;
  for (const old of transcript.querySelectorAll('.focused')) old.classList.remove('focused');
  el.classList.add('focused');
  el.scrollIntoView({ block: 'center' });
}

function keepAtEnd(): void {
  if (!followEnd || endScrollQueued) return;
  endScrollQueued = true;
  requestAnimationFrame(() => {
    endScrollQueued = false;
    if (!followEnd) return;
    transcript.scrollTop = transcript.scrollHeight;
    endScrollTop = transcript.scrollTop;
  });
}

function renderTranscript(): void {
  const wanted: HTMLElement[] = [];
  const keep = new Set<string>();
  if (state.hasMore) {
    loadMore ??= button('Load earlier messages', () => post({ type: 'loadMore' }), { class: 'link load-more' });
    wanted.push(loadMore);
  }
  const last = state.blocks[state.blocks.length - 1];
  for (const b of state.blocks) {
    // `streaming` also marks the last turn-end marker (the one with Retry).
    const streaming = (state.running && b === last && b.type === 'assistant') || (b.type === 'turnEnd' && b === last && !state.running);
    const prev = rendered.get(b.key);
    let el: HTMLElement;
    if (prev && prev.block === b && prev.streaming === streaming) {
      el = prev.el;
    } else if (b.type === 'assistant') {
      const r = renderAssistant(b, streaming, prev?.markdown ? prev : undefined);
      rendered.set(b.key, r);
      el = r.el;
    } else {
      el = renderBlock(b);
      rendered.set(b.key, { block: b, streaming, el });
    }
    keep.add(b.key);
    wanted.push(el);
  }
  for (const k of [...rendered.keys()]) if (!keep.has(k)) rendered.delete(k);
  empty.hidden = state.blocks.length > 0;
  wanted.unshift(empty);
  if (state.rewind !== renderedRewind) {
    renderedRewind = state.rewind;
    rewindEl = state.rewind ? rewindView(state.rewind, post) : undefined;
  }
  if (rewindEl) wanted.push(rewindEl);
  // Reconcile children in order with the fewest DOM moves (focus stays on untouched buttons).
  let cursor = transcript.firstChild;
  for (const el of wanted) {
    if (cursor === el) {
      cursor = cursor.nextSibling;
    } else {
      transcript.insertBefore(el, cursor);
    }
  }
  while (cursor) {
    const next = cursor.nextSibling;
    transcript.removeChild(cursor);
    cursor = next;
  }
  keepAtEnd();
}

let renderedHeader = '';
const SEARCH_SESSIONS = 'agent-ls:search-sessions';

function renderHeader(): void {
  const sessions = [...state.sessions];
  if (state.session && !sessions.some((s) => s.sessionId === state.session?.sessionId)) sessions.unshift(state.session);
  // Rebuild the options only when they change, so an open dropdown survives streaming.
  const sig = JSON.stringify([state.connection, state.session?.sessionId, sessions.map((s) => [s.sessionId, sessionLabel(s), s.modifiedAt, s.messageCount])]);
  if (sig === renderedHeader) return;
  renderedHeader = sig;
  const options = sessions.map((s) => {
    const o = h('option', { value: s.sessionId }, sessionLabel(s));
    o.title = `${sessionLabel(s)} — ${relativeTime(s.modifiedAt)}, ${messageCount(s.messageCount)}`;
    return o;
  });
  if (!sessions.length) options.push(h('option', { value: '' }, 'No session'));
  // Older sessions than the ones listed: the Switch Session picker searches all of them.
  options.push(h('option', { value: SEARCH_SESSIONS }, 'Search all sessions…'));
  select.replaceChildren(...options);
  select.value = state.session?.sessionId ?? '';
  select.disabled = state.connection !== 'ready';
  newButton.disabled = state.connection !== 'ready';
  searchButton.disabled = state.connection !== 'ready';
}

// The banner and the status line are rebuilt only when what they show changes: a streamed chunk
// then touches neither (no restarted spinner, no lost focus, nothing more to lay out).
let renderedBanner = '';

function renderBanner(): void {
  const sig = JSON.stringify([state.connection, state.connectionError]);
  if (sig === renderedBanner) return;
  renderedBanner = sig;
  banner.replaceChildren();
  if (state.connection === 'failed' || state.connection === 'stopped') {
    banner.className = 'banner error';
    banner.append(
      h('div', { class: 'message' }, state.connectionError ?? 'The agent-ls server is not running.'),
      h(
        'div',
        { class: 'banner-actions' },
        button('Retry', () => post({ type: 'retry' }), { class: 'retry' }),
        button('Show log', () => post({ type: 'showLog' }), { class: 'secondary' }),
      ),
    );
    banner.hidden = false;
  } else if (state.connection === 'starting') {
    banner.className = 'banner info';
    banner.append(h('div', { class: 'message' }, 'Starting agent-ls…'));
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
}

/** The request's title without markdown backticks, and without the command the code block shows. */
function permissionHeading(p: PendingPermission): string {
  const title = p.title.replace(/`/g, '');
  const command = p.detail?.trim();
  if (!command || !title.includes(command)) return title;
  return p.toolKind === 'execute' || /^run\b/i.test(title) ? 'Allow the agent to run this command?' : 'Allow the agent to do this?';
}

function renderPermission(p: PendingPermission): HTMLElement {
  const el = h('div', { class: 'permission', role: 'alertdialog', 'aria-label': `Permission: ${permissionHeading(p)}`, 'data-request-id': p.requestId });
  el.append(h('div', { class: 'permission-title' }, permissionHeading(p)));
  if (p.detail) el.append(h('pre', { class: 'permission-detail' }, p.detail));
  if (p.diffs?.length) {
    // An edit under review: the diff editor shows it (Accept / Reject in its title bar too).
    el.append(
      h('ul', { class: 'review-files' }, ...p.diffs.map((d) => h('li', {}, h('span', { class: 'file', title: d.path }, baseName(d.path)), ` +${d.added} −${d.removed}`))),
      button('Review changes', () => post({ type: 'reviewEdit', requestId: p.requestId }), { class: 'link review-edit' }),
    );
  }
  const actions = h('div', { class: 'permission-actions' });
  for (const o of p.options) {
    const cls = o.kind.startsWith('allow') ? '' : 'secondary';
    actions.append(button(o.name, () => post({ type: 'permission', requestId: p.requestId, optionId: o.optionId }), { class: `${cls} option-${o.kind}`, 'data-option-id': o.optionId }));
  }
  el.append(actions);
  return el;
}

let renderedPermissions = '';

function renderPermissions(): void {
  const sig = state.permissions.map((p) => p.requestId).join(',');
  if (sig === renderedPermissions) return;
  const hadFocus = permissions.contains(document.activeElement);
  renderedPermissions = sig;
  permissions.replaceChildren(...state.permissions.map(renderPermission));
  permissions.hidden = state.permissions.length === 0;
  // A new request takes the keyboard focus; when the last one goes, focus returns to the prompt.
  const first = permissions.querySelector('button');
  if (first) first.focus();
  else if (hadFocus) prompt.focus();
}

let renderedStatus = '';

function renderComposer(): void {
  cancel.hidden = !state.running;
  send.disabled = state.running || state.connection !== 'ready';
  prompt.disabled = state.connection !== 'ready';
  // A change of model or thinking restarts the server: not while a turn runs.
  modelSelect.disabled = thinking.disabled = state.running || state.connection !== 'ready' || !config;
  const sig = JSON.stringify([state.running, state.progress, state.usage]);
  if (sig === renderedStatus) return;
  renderedStatus = sig;
  status.replaceChildren();
  if (state.running) {
    status.append(h('span', { class: 'spinner', 'aria-hidden': 'true' }), state.progress ?? 'Working…');
    status.className = 'running';
  } else {
    status.className = '';
    const u = state.usage;
    const input = u?.inputTokens ?? u?.input_tokens;
    const output = u?.outputTokens ?? u?.output_tokens;
    if (typeof input === 'number' && typeof output === 'number') {
      status.append(`Last turn: ${input.toLocaleString('en-US')} tokens in · ${output.toLocaleString('en-US')} out`);
    }
  }
}

let renderedUsage = '';
let renderedUsageOf: ChatState['sessionUsage'] | undefined;

/** The session's running totals, cost (when the model's price is known) and context-window fill. */
function renderSessionUsage(): void {
  const u = state.sessionUsage;
  // A streamed chunk leaves the totals as they were: nothing to format.
  if (u === renderedUsageOf) return;
  renderedUsageOf = u;
  const text = u.calls ? `Session: ${usageSummary(u)}` : '';
  if (text === renderedUsage) return;
  renderedUsage = text;
  sessionUsage.textContent = text;
  sessionUsage.title = u.calls
    ? `${u.calls} model call${u.calls === 1 ? '' : 's'}${state.hasMore ? ' in the loaded messages' : ''}: ${u.inputTokens.toLocaleString('en-US')} input, ${u.cacheReadTokens.toLocaleString('en-US')} cached, ${u.cacheWriteTokens.toLocaleString('en-US')} written to the cache, ${u.outputTokens.toLocaleString('en-US')} output tokens${u.cost === undefined ? ' (no known price for this model)' : ''}`
    : '';
}

function render(): void {
  renderBanner();
  renderHeader();
  renderTranscript();
  renderPermissions();
  renderComposer();
  renderSessionUsage();
  document.body.dataset.connection = state.connection;
  document.body.dataset.running = String(state.running);
}

// ---------------------------------------------------------------------------------------------
// Input

let selectionLabel: string | undefined;
let attachSelection = vscode.getState()?.attachSelection ?? false;
let attachments: Attachment[] = vscode.getState()?.attachments ?? [];
// Pasted and dropped images: kept while the panel lives (it is retained when hidden), not in the
// webview state, which is written on every keystroke and would carry megabytes each time.
let images: PromptImage[] = [];

function savePanelState(): void {
  // Besides the draft, its attachments and the chip's switch, each only once set.
  const saved: PanelState = { draft: prompt.value };
  if (attachSelection) saved.attachSelection = attachSelection;
  if (attachments.length) saved.attachments = attachments;
  vscode.setState(saved);
}

/** Files (from `@`) and selections (Agent: Add Selection to Chat) that go with the next prompt. */
function renderAttachments(): void {
  attachmentsRow.hidden = attachments.length === 0 && images.length === 0;
  attachmentsRow.replaceChildren(
    ...images.map((image, i) =>
      imageChip(image, i + 1, () => {
        images = images.filter((x) => x !== image);
        renderAttachments();
        prompt.focus();
      }),
    ),
    ...attachments.map((a) =>
      h(
        'span',
        { class: 'chip attached', title: a.label },
        baseName(a.label),
        button('×', () => {
          attachments = attachments.filter((x) => x !== a);
          savePanelState();
          renderAttachments();
          prompt.focus();
        }, { 'aria-label': `Remove ${a.label}`, class: 'remove' }),
      ),
    ),
  );
}

function showImageProblems(problems: string[]): void {
  imageProblemEl.hidden = problems.length === 0;
  imageProblemEl.textContent = problems.join(' ');
}

/** Pasted or dropped files: the images become chips, the rest a sentence saying why not. */
async function addImages(files: File[], named: boolean): Promise<void> {
  const read = await readImages(files, named);
  images = [...images, ...read.images];
  showImageProblems(read.problems);
  renderAttachments();
}

function attach(a: Attachment): void {
  if (!attachments.some((x) => x.uri === a.uri && JSON.stringify(x.range) === JSON.stringify(a.range))) attachments = [...attachments, a];
  savePanelState();
  renderAttachments();
}

// `@` mentions: the word after `@` asks the host for files; the picked one becomes a chip and the
// word reads `@path` in the prompt.
let mentionSeq = 0;
const mentionList = new MentionList($<HTMLElement>('mentions'), (file) => {
  const at = mentionAt(prompt.value, prompt.selectionStart);
  if (at) {
    const insert = `@${file.label} `;
    prompt.value = prompt.value.slice(0, at.start) + insert + prompt.value.slice(prompt.selectionStart);
    prompt.setSelectionRange(at.start + insert.length, at.start + insert.length);
  }
  attach(file);
  prompt.focus();
});

function updateMention(): void {
  const at = prompt.selectionStart === prompt.selectionEnd ? mentionAt(prompt.value, prompt.selectionStart) : undefined;
  mentionSeq += 1;
  if (!at) {
    mentionList.hide();
    return;
  }
  post({ type: 'mentionQuery', id: mentionSeq, query: at.query });
}

// Up in an empty prompt box recalls the prompts of this session, newest first; Down goes back.
let recalled = -1;

function recall(step: number): boolean {
  const prompts = state.blocks.filter((b) => b.type === 'user').map((b) => (b as { text: string }).text);
  const next = recalled + step;
  if (next < -1 || next >= prompts.length) return false;
  recalled = next;
  prompt.value = next === -1 ? '' : prompts[prompts.length - 1 - next];
  prompt.setSelectionRange(prompt.value.length, prompt.value.length);
  return true;
}

let config: PanelConfig | undefined;
const OTHER_MODEL = 'agent-ls:other-model';

function renderConfig(): void {
  if (!config) return;
  const c = config;
  const names = [...new Set([...(c.model ? [c.model] : []), ...c.models])];
  modelSelect.replaceChildren(
    h('option', { value: '' }, `Default (${c.defaultModel})`),
    ...names.map((m) => h('option', { value: m }, m)),
    h('option', { value: OTHER_MODEL }, 'Other model…'),
  );
  modelSelect.value = c.model;
  thinking.setAttribute('aria-pressed', String(c.thinking));
  thinking.title = c.thinking ? 'Extended thinking is on (click to turn off; restarts the server)' : 'Extended thinking is off (click to turn on; restarts the server)';
}

modelSelect.addEventListener('change', () => {
  const model = modelSelect.value;
  if (config) modelSelect.value = config.model;
  post({ type: 'setModel', model });
});
thinking.addEventListener('click', () => post({ type: 'setThinking', on: thinking.getAttribute('aria-pressed') !== 'true' }));

/** The editor's selection as a chip: pressed, it goes along with the next prompt. */
function renderEditorContext(): void {
  editorContext.hidden = !selectionLabel;
  if (!selectionLabel) return editorContext.replaceChildren();
  const chip = button(`${attachSelection ? '✓' : '+'} ${baseName(selectionLabel)}`, () => {
    attachSelection = !attachSelection;
    savePanelState();
    renderEditorContext();
  }, {
    class: `chip toggle${attachSelection ? ' on' : ''}`,
    'aria-pressed': String(attachSelection),
    title: `${selectionLabel}: ${attachSelection ? 'sent with the prompt (click to leave out)' : 'not sent (click to attach)'}`,
  });
  editorContext.replaceChildren(chip);
}

/**
 * A failed turn's prompt is not part of the conversation any more (the next prompt attaches
 * before it): it goes back into an empty prompt box, to send again as it is or changed.
 */
function putBackFailedPrompt(): void {
  const last = [...state.blocks].reverse().find((b) => b.type === 'user');
  if (!last || last.type !== 'user' || prompt.value.trim() || images.length) return;
  prompt.value = last.text;
  images = last.images ?? [];
  renderAttachments();
  savePanelState();
}

// Edit and resend: the message goes into the prompt box; sending replaces it.
let editing: { entryId: string; draft: string; draftImages: PromptImage[] } | undefined;

function startEditing(b: UserBlock): void {
  if (!b.entryId || state.running) return;
  editing = { entryId: b.entryId, draft: editing?.draft ?? prompt.value, draftImages: editing?.draftImages ?? images };
  prompt.value = b.text;
  images = b.images ?? [];
  renderAttachments();
  editRevertFiles.checked = false;
  editingBar.hidden = false;
  prompt.focus();
  prompt.setSelectionRange(prompt.value.length, prompt.value.length);
}

function stopEditing(restoreDraft: boolean): void {
  if (!editing) return;
  if (restoreDraft) {
    prompt.value = editing.draft;
    images = editing.draftImages;
    renderAttachments();
  }
  editing = undefined;
  editingBar.hidden = true;
}

$<HTMLButtonElement>('edit-cancel').addEventListener('click', () => {
  stopEditing(true);
  prompt.focus();
});

function submit(): void {
  const text = prompt.value;
  if ((!text.trim() && !images.length) || state.running || state.connection !== 'ready') return;
  const message: WebviewMessage = selectionLabel && attachSelection ? { type: 'prompt', text, attachSelection: true } : { type: 'prompt', text };
  if (attachments.length) message.attachments = attachments;
  if (images.length) message.images = images;
  if (editing && message.type === 'prompt') {
    message.replaceEntryId = editing.entryId;
    if (editRevertFiles.checked) message.revertFiles = true;
    stopEditing(false);
  }
  post(message);
  prompt.value = '';
  attachments = [];
  images = [];
  showImageProblems([]);
  recalled = -1;
  mentionList.hide();
  renderAttachments();
  savePanelState();
}

prompt.addEventListener('keydown', (e) => {
  if (mentionList.open && !e.isComposing) {
    const keys: Record<string, () => boolean> = {
      ArrowDown: () => (mentionList.move(1), true),
      ArrowUp: () => (mentionList.move(-1), true),
      Enter: () => mentionList.pick(),
      Tab: () => mentionList.pick(),
      Escape: () => (mentionList.hide(), true),
    };
    if (keys[e.key]?.()) {
      e.preventDefault();
      return;
    }
  }
  const recalling = recalled >= 0 || !prompt.value;
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    submit();
  } else if ((e.key === 'ArrowUp' || e.key === 'ArrowDown') && recalling && !e.shiftKey && !e.altKey) {
    // Up in an empty box recalls the prompts of this session, to edit and send again.
    if (recall(e.key === 'ArrowUp' ? 1 : -1)) e.preventDefault();
  } else if (e.key === 'Escape' && editing && !state.running) {
    e.preventDefault();
    stopEditing(true);
  } else if (e.key === 'Escape' && state.running) {
    e.preventDefault();
    post({ type: 'cancel' });
  }
});
prompt.addEventListener('input', () => {
  recalled = -1;
  savePanelState();
  updateMention();
});
prompt.addEventListener('blur', () => mentionList.hide());
// A pasted screenshot or a dropped image file becomes a chip; pasted text goes in as always.
prompt.addEventListener('paste', (e) => {
  const files = [...(e.clipboardData?.files ?? [])];
  if (!files.length) return;
  if (!e.clipboardData?.types.includes('text/plain')) e.preventDefault();
  void addImages(files, false);
});
prompt.addEventListener('dragover', (e) => {
  if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
});
prompt.addEventListener('drop', (e) => {
  const files = [...(e.dataTransfer?.files ?? [])];
  if (!files.length) return;
  e.preventDefault();
  void addImages(files, true);
});
send.addEventListener('click', submit);
transcript.addEventListener('click', (e) => {
  const action = codeBlockAction(e.target);
  if (action) post(action);
});
cancel.addEventListener('click', () => post({ type: 'cancel' }));
newButton.addEventListener('click', () => post({ type: 'newSession' }));
searchButton.addEventListener('click', () => post({ type: 'searchSessions' }));
select.addEventListener('change', () => {
  if (select.value === SEARCH_SESSIONS) {
    select.value = state.session?.sessionId ?? '';
    post({ type: 'pickSession' });
  } else if (select.value && select.value !== state.session?.sessionId) post({ type: 'switchSession', sessionId: select.value });
});

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const m = event.data;
  if (!m || typeof m !== 'object') return;
  if (m.type === 'action') {
    state = reduce(state, m.action);
    // A new turn, another session or a reload starts at the end.
    if (m.action.type === 'promptStarted' || m.action.type === 'reset' || m.action.type === 'snapshot') followFromNow();
    if (m.action.type === 'reset' || m.action.type === 'snapshot') stopEditing(false);
    render();
    if (m.action.type === 'reset' && m.action.focusEntryId) showEntry(m.action.focusEntryId);
    if (m.action.type === 'promptEnded' && (m.action.error || m.action.result?.stopReason === 'error')) putBackFailedPrompt();
    // Retry sends the prompt that was put back: the box's copy goes.
    if (m.action.type === 'promptStarted' && prompt.value === m.action.text) {
      prompt.value = '';
      images = [];
      renderAttachments();
      savePanelState();
    }
    announce(m.action);
  } else if (m.type === 'editorSelection') {
    selectionLabel = m.label;
    renderEditorContext();
  } else if (m.type === 'focusPrompt') {
    if (m.text !== undefined) prompt.value = m.text;
    if (m.images) {
      images = m.images;
      renderAttachments();
    }
    prompt.focus();
  } else if (m.type === 'attach') {
    attach(m.attachment);
  } else if (m.type === 'mentionResults') {
    if (m.id === mentionSeq) mentionList.show(m.files);
  } else if (m.type === 'config') {
    config = m.config;
    renderConfig();
    renderComposer();
  }
});

// Focusing the view (Agent: Focus on Chat View, Ctrl/Cmd+Esc) puts the caret in the prompt box.
window.addEventListener('focus', () => {
  if (document.activeElement === document.body || document.activeElement === null) prompt.focus();
});

prompt.value = vscode.getState()?.draft ?? '';
renderAttachments();
render();
post({ type: 'ready' });
