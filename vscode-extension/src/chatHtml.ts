/** The chat webview's HTML shell (pure: the webview tests load the same page in Chromium). */
import { escapeHtml } from './escapeHtml';

export interface ChatHtmlOptions {
  /** webview.cspSource (or the test server's origin) */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

export function chatHtml(o: ChatHtmlOptions): string {
  const csp = [
    "default-src 'none'",
    `style-src ${o.cspSource} 'unsafe-inline'`,
    `script-src 'nonce-${o.nonce}'`,
    `img-src ${o.cspSource} data: https:`,
    `font-src ${o.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(o.styleUri)}">
<title>Agent</title>
</head>
<body>
<header id="header">
  <label class="visually-hidden" for="session-select">Session</label>
  <select id="session-select" title="Switch session" aria-label="Session"></select>
  <button id="search-sessions" class="icon-button" title="Search all sessions (full text)" aria-label="Search all sessions">⌕</button>
  <button id="new-session" class="icon-button" title="New session" aria-label="New session">+</button>
</header>
<div id="banner" role="alert" hidden></div>
<div class="transcript-frame">
<main id="transcript" role="log" aria-live="off" aria-label="Transcript" tabindex="0">
  <div id="empty" class="empty">Ask the agent to read, explain or change code in this workspace.</div>
</main>
<button id="jump-latest" class="jump-latest" hidden title="Scroll to the newest message">↓ Jump to latest</button>
</div>
<div id="announcer" class="visually-hidden" aria-live="polite" aria-atomic="true"></div>
<section id="permissions" aria-label="Permission requests"></section>
<footer id="composer">
  <div id="editor-context" class="context" hidden></div>
  <div id="attachments" class="context" aria-label="Attached to the prompt" hidden></div>
  <div id="image-problem" class="composer-problem" role="alert" hidden></div>
  <div id="status" aria-live="polite"></div>
  <div id="editing" class="editing" role="status" hidden>
    <span>Editing a message: Send replaces it and what followed (kept as a branch).</span>
    <label><input type="checkbox" id="edit-revert-files"> Also put back the files changed since</label>
    <button id="edit-cancel" class="link">Cancel</button>
  </div>
  <div id="mentions" class="mentions" role="listbox" aria-label="Files to attach" hidden></div>
  <textarea id="prompt" rows="3" placeholder="Ask the agent… (Enter to send, Shift+Enter for a new line, @ to attach a file, paste or drop an image)" aria-label="Prompt" aria-controls="mentions"></textarea>
  <div class="composer-actions">
    <select id="model-select" class="model-select" title="Model (restarts the server)" aria-label="Model"></select>
    <button id="thinking" class="secondary toggle" aria-pressed="false" title="Extended thinking">Thinking</button>
    <span class="spacer"></span>
    <button id="cancel" class="secondary" hidden>Cancel</button>
    <button id="send">Send</button>
  </div>
  <div id="session-usage" class="session-usage"></div>
</footer>
<script nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>`;
}

export function makeNonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < 32; i += 1) out += chars.charAt(Math.floor(Math.random() * chars.length));
  return out;
}
