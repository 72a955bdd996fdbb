import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
const SERVER_SETTINGS = ['agentLs.serverPath', 'agentLs.serverArgs', 'agentLs.pythonPath'];

describe('package.json', () => {
  it('lets the server command settings be set in User settings (also remote / code-server)', () => {
    const props = manifest.contributes.configuration.properties;
    // machine(-overridable) settings are not read from a remote window's User settings.
    for (const key of SERVER_SETTINGS) expect(props[key].scope, key).toBe('window');
  });

  it('reads them from User settings only in an untrusted folder', () => {
    expect(manifest.capabilities.untrustedWorkspaces.supported).toBe('limited');
    expect(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations).toEqual(SERVER_SETTINGS);
  });
});

describe('commands and keys', () => {
  const palette = manifest.contributes.menus.commandPalette as Array<{ command: string; when?: string }>;
  const keys = manifest.contributes.keybindings as Array<{ command: string; key: string; mac: string; when?: string }>;

  it('has one Focus Chat command: the view’s own "Focus on Chat View", none of its own', () => {
    const titles = (manifest.contributes.commands as Array<{ title: string }>).map((c) => c.title).filter((t) => /focus/i.test(t));
    expect(titles).toEqual([]);
    expect(palette.map((p) => p.command)).not.toContain('agentLs.chat.focus');
  });

  it('binds Focus Chat (Ctrl/Cmd+Esc) and sending the selection (Ctrl/Cmd+Alt+K, and Ctrl/Cmd+Esc on a selection)', () => {
    expect(keys).toContainEqual(expect.objectContaining({ command: 'agentLs.chat.focus', key: 'ctrl+escape', mac: 'cmd+escape' }));
    expect(keys).toContainEqual(expect.objectContaining({ command: 'agentLs.addSelectionToChat', key: 'ctrl+alt+k', mac: 'cmd+alt+k' }));
    expect(keys).toContainEqual(expect.objectContaining({ command: 'agentLs.askAboutSelection', key: 'ctrl+escape' }));
  });

  it('opens the chat in an editor tab too, restored after a reload', () => {
    expect(manifest.activationEvents).toContain('onWebviewPanel:agentLs.chatEditor');
    expect(manifest.contributes.menus['view/title']).toContainEqual(expect.objectContaining({ command: 'agentLs.openChatInEditor', when: 'view == agentLs.chat' }));
  });
});
