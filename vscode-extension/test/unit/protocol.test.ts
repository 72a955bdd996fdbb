import { describe, expect, it } from 'vitest';

import { errorCode, errorKind, errorMessage, updateKind } from '../../src/protocol';

describe('updateKind', () => {
  it('reads the `kind` tag and ACP `sessionUpdate` tags', () => {
    expect(updateKind({ kind: 'agent_message_chunk' })).toBe('agent_message_chunk');
    expect(updateKind({ sessionUpdate: 'tool_call', kind: 'edit' })).toBe('tool_call');
    expect(updateKind({ kind: 'edit' })).toBe('edit');
  });
});

describe('errors', () => {
  it('extracts message, details and code of JSON-RPC errors', () => {
    expect(errorMessage({ code: -32603, message: 'no API key', data: { detail: 'set ANTHROPIC_API_KEY' } })).toBe(
      'no API key (set ANTHROPIC_API_KEY)',
    );
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorCode({ code: -32010 })).toBe(-32010);
    expect(errorCode(new Error('x'))).toBeUndefined();
    expect(errorKind({ code: -32010, data: { kind: 'session_not_found' } })).toBe('session_not_found');
    expect(errorKind({ code: -32603 })).toBeUndefined();
  });
});
