import { describe, expect, it } from 'vitest';

import { attachmentLabel, linesLabel, selectionLines, splitUserContent } from '../../src/attachments';
import { initialState, itemsToBlocks, reduce } from '../../src/transcript';

const stored = [
  { type: 'text', text: 'Why does this fail?' },
  { type: 'text', text: 'Selection from /w/src/auth.py (lines 3-5):\n```\ndef login():\n    pass\n\n```' },
  { type: 'text', text: 'Attached file /w/README.md:\n```\n# Readme\n```' },
];

describe('attachments', () => {
  it('shows the prompt text and file:lines chips, not the fenced copies', () => {
    expect(splitUserContent(stored)).toEqual({ text: 'Why does this fail?', context: ['/w/src/auth.py:3-5', '/w/README.md'] });
    expect(attachmentLabel('Selection from /w/a.py (lines 7-7):\n```\nx\n```')).toBe('/w/a.py:7');
    expect(attachmentLabel('Attached file /w/gone.py: unreadable (No such file)')).toBe('/w/gone.py');
    // A prompt that itself starts like an attachment stays the prompt.
    expect(splitUserContent([{ type: 'text', text: 'Attached file x: what is it?' }])).toEqual({ text: 'Attached file x: what is it?', context: [] });
  });

  it('keeps the chips after a reload (the stored message becomes the same bubble)', () => {
    const [user] = itemsToBlocks([{ entryId: 'e1', kind: 'user', content: stored }], { seq: 0 });
    expect(user).toMatchObject({ type: 'user', text: 'Why does this fail?', context: ['/w/src/auth.py:3-5', '/w/README.md'] });
  });

  it('keeps the prompt text when the server echoes the whole stored message live', () => {
    const session = { sessionId: 's1', workspace: '/w', createdAt: '', modifiedAt: '', messageCount: 0, firstMessage: '' };
    let state = reduce(initialState(), { type: 'reset', page: { session, items: [], hasMore: false } });
    state = reduce(state, { type: 'promptStarted', text: 'Why does this fail?', context: ['src/auth.py:3-5'] });
    state = reduce(state, { type: 'update', params: { sessionId: 's1', turnId: 't1', update: { kind: 'user_message', content: stored } } });
    expect(state.blocks).toHaveLength(1);
    expect(state.blocks[0]).toMatchObject({ text: 'Why does this fail?', context: ['src/auth.py:3-5'], pending: false });
  });

  it('numbers lines from 1 and leaves out the line a whole-line selection ends on', () => {
    expect(linesLabel('a.py', selectionLines({ line: 2 }, { line: 5, character: 0 }))).toBe('a.py:3-5');
    expect(linesLabel('a.py', selectionLines({ line: 2 }, { line: 4, character: 7 }))).toBe('a.py:3-5');
    expect(linesLabel('a.py', selectionLines({ line: 2 }, { line: 2, character: 4 }))).toBe('a.py:3');
  });
});
