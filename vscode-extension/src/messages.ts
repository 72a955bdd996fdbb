/** Messages between the extension host and the chat webview. */
import type { ChatAction } from './transcript';

export type HostMessage =
  | { type: 'action'; action: ChatAction }
  | { type: 'focusPrompt'; text?: string };

export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'prompt'; text: string }
  | { type: 'cancel' }
  | { type: 'newSession' }
  | { type: 'switchSession'; sessionId: string }
  | { type: 'loadMore' }
  | { type: 'viewChanges'; checkpointId: string; path?: string }
  | { type: 'revert'; checkpointId: string; force?: boolean }
  | { type: 'undo'; checkpointId: string; undoCheckpointId: string }
  | { type: 'permission'; requestId: string; optionId?: string }
  | { type: 'openFile'; path: string; line?: number }
  | { type: 'copyCode'; code: string }
  | { type: 'insertCode'; code: string }
  | { type: 'retry' }
  | { type: 'showLog' };
