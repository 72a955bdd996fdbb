/** Messages between the extension host and the chat webview. */
import type { ChatAction } from './transcript';

export type HostMessage =
  | { type: 'action'; action: ChatAction }
  | { type: 'focusPrompt'; text?: string }
  /** the active editor's selection, offered as a chip the user can attach (`file:3-5`) */
  | { type: 'editorSelection'; label?: string };

export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'prompt'; text: string; attachSelection?: boolean }
  | { type: 'cancel' }
  | { type: 'newSession' }
  | { type: 'switchSession'; sessionId: string }
  | { type: 'pickSession' }
  | { type: 'loadMore' }
  | { type: 'viewChanges'; checkpointId: string; path?: string }
  | { type: 'revert'; checkpointId: string; force?: boolean }
  | { type: 'undo'; checkpointId: string; undoCheckpointId: string }
  | { type: 'permission'; requestId: string; optionId?: string }
  | { type: 'openFile'; path: string; line?: number }
  | { type: 'copyCode'; code: string }
  | { type: 'insertCode'; code: string }
  | { type: 'retry' }
  | { type: 'setApiKey' }
  | { type: 'showLog' };
