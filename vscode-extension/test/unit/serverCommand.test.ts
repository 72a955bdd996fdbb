import { describe, expect, it } from 'vitest';

import {
  type ServerSettings,
  expandPath,
  initializationOptions,
  permissionMap,
  resolveServerCommand,
  serverEnv,
  startFailureMessage,
} from '../../src/serverCommand';

const settings = (over: Partial<ServerSettings> = {}): ServerSettings => ({
  serverPath: '',
  serverArgs: [],
  pythonPath: '',
  model: '',
  baseUrl: '',
  permissionPolicy: 'default',
  permissions: {},
  sessionDir: '',
  ...over,
});

const none = (): boolean => false;

describe('resolveServerCommand', () => {
  it('prefers agentLs.serverPath, with its args expanded', () => {
    const cmd = resolveServerCommand(settings({ serverPath: '~/bin/agent-ls', serverArgs: ['--log', '${workspaceFolder}/l'] }), {
      home: '/home/u',
      workspaceFolder: '/w',
      exists: none,
    });
    expect(cmd).toEqual({ command: '/home/u/bin/agent-ls', args: ['--log', '/w/l'], source: 'agentLs.serverPath' });
  });

  it('runs python -m agent_ls with agentLs.pythonPath', () => {
    const cmd = resolveServerCommand(settings({ pythonPath: '/opt/py/bin/python' }), { home: '/h', exists: none });
    expect(cmd).toEqual({ command: '/opt/py/bin/python', args: ['-m', 'agent_ls'], source: 'agentLs.pythonPath' });
  });

  it("falls back to the workspace's .venv, then python3", () => {
    const venv = resolveServerCommand(settings(), { home: '/h', workspaceFolder: '/w', exists: (p) => p === '/w/.venv/bin/python' });
    expect(venv).toEqual({ command: '/w/.venv/bin/python', args: ['-m', 'agent_ls'], source: 'workspace .venv' });
    const plain = resolveServerCommand(settings(), { home: '/h', workspaceFolder: '/w', exists: none });
    expect(plain.command).toBe('python3');
    expect(plain.source).toBe('default python3');
  });

  it('expands ~ and ${workspaceFolder}', () => {
    expect(expandPath('~', '/h', undefined)).toBe('/h');
    expect(expandPath(' ${workspaceFolder}/.venv/bin/python ', '/h', '/w')).toBe('/w/.venv/bin/python');
  });
});

describe('serverEnv', () => {
  it('adds the key and base URL only when given, never mutating the base', () => {
    const base = { PATH: '/bin' };
    expect(serverEnv(base, {})).toEqual({ PATH: '/bin', PYTHONUNBUFFERED: '1' });
    expect(serverEnv(base, { apiKey: 'k', baseUrl: ' http://127.0.0.1:9 ' })).toEqual({
      PATH: '/bin',
      PYTHONUNBUFFERED: '1',
      ANTHROPIC_API_KEY: 'k',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
    });
    expect(base).toEqual({ PATH: '/bin' });
  });
});

describe('initializationOptions', () => {
  it('always declares the permission UI and sends only set options', () => {
    expect(initializationOptions(settings())).toEqual({ client: 'vscode', permissionUi: true });
    expect(initializationOptions(settings({ model: 'qwen3-coder', sessionDir: '/s' }))).toEqual({
      client: 'vscode',
      permissionUi: true,
      model: 'qwen3-coder',
      sessionDir: '/s',
    });
  });

  it('maps the permission policy to per-kind decisions, with overrides on top', () => {
    expect(permissionMap('default', {})).toBeUndefined();
    expect(permissionMap('readOnly', {})).toMatchObject({ edit: 'deny', execute: 'deny' });
    expect(permissionMap('allowAll', { execute: 'ask', bogus: 'maybe' })).toEqual({
      edit: 'allow',
      delete: 'allow',
      move: 'allow',
      execute: 'ask',
      fetch: 'allow',
      other: 'allow',
    });
    expect(initializationOptions(settings({ permissionPolicy: 'askAll', permissions: { run_command: 'allow' } })).permissionPolicy).toEqual({
      edit: 'ask',
      delete: 'ask',
      move: 'ask',
      execute: 'ask',
      fetch: 'ask',
      other: 'ask',
      run_command: 'allow',
    });
  });
});

describe('startFailureMessage', () => {
  it('names the command and the fix for a missing interpreter', () => {
    const msg = startFailureMessage(
      { command: 'python3', args: ['-m', 'agent_ls'], source: 'default python3' },
      new Error('python3: command not found (ENOENT)'),
    );
    expect(msg).toContain('python3 -m agent_ls');
    expect(msg).toContain('agentLs.pythonPath');
    expect(msg).toContain('make setup');
  });

  it('tells how to install agent-ls into the chosen interpreter', () => {
    const msg = startFailureMessage(
      { command: '/v/bin/python', args: ['-m', 'agent_ls'], source: 'agentLs.pythonPath' },
      new Error("ModuleNotFoundError: No module named 'agent_ls'"),
    );
    expect(msg).toContain('/v/bin/python -m pip install');
    expect(msg).toContain('No module named');
  });

  it('points at agentLs.serverPath when that is what failed', () => {
    const msg = startFailureMessage({ command: '/x/agent-ls', args: [], source: 'agentLs.serverPath' }, new Error('spawn ENOENT'));
    expect(msg).toContain('"agentLs.serverPath"');
  });
});
