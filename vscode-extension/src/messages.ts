/** Messages between the extension host and the chat webview. */
import type { PromptImage } from './images';
import type { Range } from './protocol';
import type { ChatAction, RewindScope } from './transcript';

/** A file or selection attached to the next prompt, shown as a chip (`PATH` or `PATH:A-B`). */
export interface Attachment {
  label: string;
  uri: string;
  range?: Range;
}

/** What the panel's model picker and thinking toggle show (the server's configuration). */
export interface PanelConfig {
  /** `agentLs.model` ('' = the server's default) */
  model: string;
  /** the models the picker offers */
  models: string[];
  defaultModel: string;
  thinking: boolean;
}

export type HostMessage =
  | { type: 'action'; action: ChatAction }
  /** `images`: a prompt that was not sent gives back its pasted images too */
  | { type: 'focusPrompt'; text?: string; images?: PromptImage[] }
  /** the active editor's selection, offered as a chip the user can attach (`file:3-5`) */
  | { type: 'editorSelection'; label?: string }
  /** a chip added to the prompt box (Agent: Add Selection to Chat) */
  | { type: 'attach'; attachment: Attachment }
  /** the files matching an `@` mention, for the request `id` */
  | { type: 'mentionResults'; id: number; files: Attachment[] }
  | { type: 'config'; config: PanelConfig };

export type WebviewMessage =
  | { type: 'ready' }
  | {
      type: 'prompt';
      text: string;
      attachSelection?: boolean;
      attachments?: Attachment[];
      /** pasted or dropped images, already checked against the server's limits */
      images?: PromptImage[];
      /** edit and resend: the user message this prompt replaces */
      replaceEntryId?: string;
      /** with replaceEntryId: revert the files changed since that message first */
      revertFiles?: boolean;
    }
  /** rewind to before a user message; `mode` answers a plan that had conflicts */
  | { type: 'rewind'; entryId: string; scope: RewindScope; mode?: 'partial' | 'force' }
  | { type: 'rewindUndo' }
  | { type: 'rewindDismiss' }
  /** resend the prompt of the failed or cancelled last turn */
  | { type: 'retryTurn' }
  | { type: 'dismissRevert'; checkpointId: string }
  /** open an edit under review in the diff editor again */
  | { type: 'reviewEdit'; requestId: string }
  | { type: 'searchSessions' }
  | { type: 'mentionQuery'; id: number; query: string }
  | { type: 'setModel'; model: string }
  | { type: 'setThinking'; on: boolean }
  | { type: 'cancel' }
  | { type: 'newSession' }
  | { type: 'switchSession'; sessionId: string }
  | { type: 'pickSession' }
  | { type: 'loadMore' }
  | { type: 'viewChanges'; checkpointId: string; path?: string }
  | { type: 'revert'; checkpointId: string; force?: boolean; partial?: boolean }
  | { type: 'undo'; checkpointId: string; undoCheckpointId: string }
  | { type: 'permission'; requestId: string; optionId?: string }
  | { type: 'openFile'; path: string; line?: number }
  | { type: 'copyCode'; code: string }
  | { type: 'insertCode'; code: string }
  | { type: 'retry' }
  | { type: 'setApiKey' }
  | { type: 'showLog' };
