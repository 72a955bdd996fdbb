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
