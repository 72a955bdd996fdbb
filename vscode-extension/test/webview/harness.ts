/**
 * Headless Chromium for the webview tests: a script bundled the way esbuild.mjs bundles the
 * panel's, served with the panel's own shell (chatHtml: its CSP, nonce and stylesheet) from a
 * fake origin, and a fake `acquireVsCodeApi` that records what the page posts.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import * as esbuild from 'esbuild';
import { type Browser, type Page, chromium } from 'playwright-core';

import { chatHtml } from '../../src/chatHtml';

export const ORIGIN = 'http://webview.test';
export const ROOT = path.resolve(__dirname, '../..');
export const SHOTS = path.join(ROOT, 'test-results');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Fake VS Code API: records posted messages and webview state; state survives reloads. */
const FAKE_API = `
  window.__posted = [];
  window.__states = [];
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(m),
    getState: () => { const s = sessionStorage.getItem('vscode-state'); return s ? JSON.parse(s) : undefined; },
    setState: (s) => { window.__states.push(s); sessionStorage.setItem('vscode-state', JSON.stringify(s)); },
  });
`;

export async function bundle(entry: string): Promise<string> {
  const out = await esbuild.build({
    entryPoints: [path.join(ROOT, entry)],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
  });
  return out.outputFiles[0].text;
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
}

const outside = new WeakMap<Page, string[]>();

/** URLs outside the fake origin that the page tried to load (none are let through). */
export const externalRequests = (page: Page): string[] => outside.get(page) ?? [];

/** A page serving the panel shell with `script`; `theme` sets --vscode-* variables (and `body-class`) on load. */
export async function newPage(
  browser: Browser,
  script: string,
  options: { theme?: Record<string, string>; viewport?: { width: number; height: number } } = {},
): Promise<Page> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 420, height: 720 } });
  const page = await context.newPage();
  const external: string[] = [];
  outside.set(page, external);
  page.on('pageerror', (e) => {
    throw e;
  });
  const theme = JSON.stringify(options.theme ?? {});
  await page.addInitScript(`${FAKE_API}
    document.addEventListener('DOMContentLoaded', () => {
      for (const [k, v] of Object.entries(${theme})) {
        // VS Code marks the theme's kind on the webview's body (vscode-light, vscode-high-contrast, …).
        if (k === 'body-class') document.body.classList.add(v);
        else document.documentElement.style.setProperty(k, v);
      }
    });`);
  const css = readFileSync(path.join(ROOT, 'media/chat.css'), 'utf8');
  const html = chatHtml({ cspSource: ORIGIN, nonce: 'testnonce123', scriptUri: `${ORIGIN}/webview.js`, styleUri: `${ORIGIN}/chat.css` });
  await page.route('**', (route) => {
    const url = new URL(route.request().url());
    if (url.origin !== ORIGIN) {
      external.push(url.href);
      return route.abort();
    }
    if (url.pathname === '/index.html') return route.fulfill({ contentType: 'text/html', body: html });
    if (url.pathname === '/webview.js') return route.fulfill({ contentType: 'text/javascript', body: script });
    if (url.pathname === '/chat.css') return route.fulfill({ contentType: 'text/css', body: css });
    return route.fulfill({ status: 404, body: '' });
  });
  await page.goto(`${ORIGIN}/index.html`);
  return page;
}
