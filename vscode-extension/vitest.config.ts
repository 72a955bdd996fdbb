import * as path from 'node:path';

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    environment: 'node',
    // The extension's own modules run against a small stand-in for the editor API.
    alias: { vscode: path.resolve(__dirname, 'test/unit/vscodeStub.ts') },
  },
});
