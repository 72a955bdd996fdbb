/**
 * The panel's turn controls: "Rewind to here" and "Edit" on each user message, the marker of a
 * failed or cancelled turn with Retry, and a rewind's plan (when files conflict: restore the
 * others, overwrite all, or cancel) and result with Undo.
 */
import type { WebviewMessage } from '../messages';
import type { RestoreResult } from '../protocol';
import { type RewindScope, type RewindState, type TurnEndBlock, type UserBlock, baseName } from '../transcript';
import { button, h } from './dom';

type Post = (m: WebviewMessage) => void;

const SCOPES: Array<[RewindScope, string, string]> = [
  ['both', 'Conversation and files', 'Go back to before this message and put back the files the later turns changed'],
  ['conversation', 'Conversation only', 'Go back to before this message; the files stay as they are'],
  ['files', 'Files only', 'Put back the files the later turns changed; the conversation stays'],
];

/** "Rewind to here" (with its scope choice) and "Edit", under a user message the server stored. */
export function userActions(b: UserBlock, post: Post, edit: (b: UserBlock) => void): HTMLElement | undefined {
  const entryId = b.entryId;
  if (!entryId || b.pending) return undefined;
  const actions = h('div', { class: 'msg-actions' });
  const choices = h('div', { class: 'rewind-scopes', role: 'group', 'aria-label': 'Rewind what' });
  choices.hidden = true;
  for (const [scope, label, title] of SCOPES) {
    choices.append(
      button(label, () => {
        choices.hidden = true;
        post({ type: 'rewind', entryId, scope });
      }, { class: `secondary scope-${scope}`, title }),
    );
  }
  choices.append(button('Cancel', () => (choices.hidden = true), { class: 'secondary' }));
  actions.append(
    button('Rewind to here', () => {
      choices.hidden = !choices.hidden;
      choices.querySelector('button')?.focus();
    }, { class: 'link rewind-here', title: 'Go back to before this message (conversation, files, or both)' }),
    button('Edit', () => edit(b), { class: 'link edit-message', title: 'Edit this message and send it again (the old turn stays as a branch)' }),
  );
  const el = h('div', {}, actions, choices);
  return el;
}

const STOPPED: Record<string, string> = {
  cancelled: 'Cancelled.',
  error: 'The turn failed.',
  max_turn_requests: 'The agent stopped at its limit of model calls for one turn; send "continue" to go on.',
};
/** What Retry resends: a failed or cancelled turn (a turn at its limit goes on with a new prompt). */
const RETRYABLE = new Set(['error', 'cancelled']);

/** A failed or cancelled turn's marker; Retry on the last one. */
export function turnEnd(b: TurnEndBlock, last: boolean, post: Post): HTMLElement {
  const level = b.stopReason === 'error' ? 'error' : 'warning';
  const text = `${STOPPED[b.stopReason] ?? `The turn ended (${b.stopReason}).`}${b.error ? ` ${b.error}` : ''}`;
  const el = h('div', {
    class: `notice ${level} turn-end`,
    'data-key': b.key,
    'data-entry-id': b.entryId,
    'data-stop-reason': b.stopReason,
    role: level === 'error' ? 'alert' : 'status',
  }, text);
  if (last && RETRYABLE.has(b.stopReason)) {
    el.append(
      h('div', { class: 'notice-actions' }, button('Retry', () => post({ type: 'retryTurn' }), { class: 'retry-turn', title: 'Send this turn’s prompt again' })),
    );
  }
  return el;
}

const RESULT_LABEL: Record<string, string> = {
  restored: 'restored',
  merged: 'restored, your later edits kept (merged)',
  conflict: 'conflict: changed since',
  unchanged: 'unchanged',
  failed: 'failed',
  skipped: 'skipped: changed since, left as it is',
};

export function resultLabel(result: string): string {
  return RESULT_LABEL[result] ?? result;
}

/** Per file: what a restore did (or, for a plan, would do). */
export function resultList(res: RestoreResult, label: (f: RestoreResult['files'][number]) => string = (f) => resultLabel(f.result)): HTMLElement {
  const list = h('ul', {});
  for (const f of res.files) {
    const p = f.path ?? f.uri ?? '';
    // A conflict's reason says what changed; other results add theirs in brackets.
    const text = f.result === 'conflict' && f.reason ? `conflict: ${f.reason}` : `${label(f)}${f.reason ? ` (${f.reason})` : ''}`;
    list.append(h('li', { class: `result-${f.result}` }, h('span', { class: 'file', title: p }, baseName(p)), ` — ${text}`));
  }
  return list;
}

/** The plan's three answers when files conflict: nothing was written yet. */
export function conflictChoices(partial: () => void, force: () => void, cancel: () => void): HTMLElement {
  return h(
    'div',
    { class: 'checkpoint-actions conflict-choices' },
    button('Restore the others', partial, { class: 'secondary partial', title: 'Restore every file that does not conflict; leave the conflicting ones as they are' }),
    button('Overwrite all', force, { class: 'secondary force', title: 'Restore every file, overwriting the changes made since' }),
    button('Cancel', cancel, { class: 'secondary cancel-plan', title: 'Change nothing' }),
  );
}

/** The rewind in progress, its plan, or its result (at the end of the transcript). */
export function rewindView(r: RewindState, post: Post): HTMLElement {
  const el = h('div', { class: `rewind rewind-${r.status}`, role: 'status', 'data-entry-id': r.entryId });
  const what =
    r.scope === 'files'
      ? `the files to before “${r.label}”`
      : r.scope === 'conversation'
        ? `the conversation to before “${r.label}”`
        : `the conversation and files to before “${r.label}”`;
  const title = (t: string): HTMLElement => h('div', { class: 'summary' }, t);
  if (r.status === 'running') {
    el.append(title(`Rewinding ${what}…`));
  } else if (r.status === 'error') {
    el.classList.add('error');
    el.append(title(`Rewind failed: ${r.error ?? 'unknown error'}`));
  } else if (r.status === 'plan' && r.result) {
    const conflicts = r.result.files.filter((f) => f.result === 'conflict').length;
    el.append(
      title(`Nothing was changed: ${conflicts} file${conflicts === 1 ? '' : 's'} changed since. Rewinding ${what} would:`),
      resultList(r.result),
      conflictChoices(
        () => post({ type: 'rewind', entryId: r.entryId, scope: r.scope, mode: 'partial' }),
        () => post({ type: 'rewind', entryId: r.entryId, scope: r.scope, mode: 'force' }),
        () => post({ type: 'rewindDismiss' }),
      ),
    );
  } else if (r.status === 'undone') {
    el.append(title('Rewind undone: the files and the conversation are back.'));
  } else if (r.result && !r.result.applied && r.scope === 'files') {
    el.append(title(`Nothing to rewind: the files are as they were before “${r.label}”.`));
    if (r.result.files.length) el.append(resultList(r.result));
  } else if (r.result) {
    el.append(title(`Rewound ${what}.`));
    if (r.result.files.length) el.append(resultList(r.result));
    if (r.result.undoCheckpointId) {
      el.append(h('div', { class: 'checkpoint-actions' }, button('Undo', () => post({ type: 'rewindUndo' }), { class: 'secondary undo-rewind', title: 'Put back what the rewind changed' })));
    }
  }
  return el;
}
