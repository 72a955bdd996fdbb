/**
 * A small stand-in for the `vscode` module, enough for the controller, the sessions tree and the
 * checkpoint documents to run under vitest. Tests script the UI through `ui`.
 */
type Listener<T> = (e: T) => unknown;

export class EventEmitter<T> {
  private listeners: Array<Listener<T>> = [];
  event = (listener: Listener<T>): { dispose(): void } => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  constructor(
    readonly scheme: string,
    readonly path: string,
    readonly query = '',
  ) {}
  static parse(value: string): Uri {
    const m = /^([a-z][\w+.-]*):(?:\/\/)?([^?]*)(?:\?(.*))?$/i.exec(value);
    return m ? new Uri(m[1], m[2], m[3] ?? '') : new Uri('file', value);
  }
  static file(p: string): Uri {
    return new Uri('file', p);
  }
  static from(c: { scheme: string; path: string; query?: string }): Uri {
    return new Uri(c.scheme, c.path, c.query ?? '');
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, [base.path, ...parts].join('/'));
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return `${this.scheme}://${this.path}${this.query ? `?${this.query}` : ''}`;
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  constructor(
    readonly start: Position,
    readonly end: Position,
  ) {}
  get isEmpty(): boolean {
    return this.start.line === this.end.line && this.start.character === this.end.character;
  }
}

export class ThemeIcon {
  constructor(readonly id: string) {}
}

export class MarkdownString {
  value = '';
  constructor(value?: string) {
    this.value = value ?? '';
  }
  appendText(t: string): this {
    this.value += t;
    return this;
  }
  appendMarkdown(t: string): this {
    this.value += t;
    return this;
  }
}

export enum TreeItemCollapsibleState {
  None = 0,
}

export class TreeItem {
  id?: string;
  description?: string;
  contextValue?: string;
  iconPath?: ThemeIcon;
  tooltip?: MarkdownString;
  command?: { command: string; title: string; arguments?: unknown[] };
  accessibilityInformation?: { label: string };
  constructor(
    readonly label: string,
    readonly collapsibleState: TreeItemCollapsibleState,
  ) {}
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export enum ConfigurationTarget {
  Global = 1,
  Workspace = 2,
}

/** A QuickPick the test drives: type into it, accept an item, close it. */
export class FakeQuickPick<T extends { label: string }> {
  items: T[] = [];
  selectedItems: T[] = [];
  value = '';
  placeholder = '';
  busy = false;
  matchOnDescription = false;
  matchOnDetail = false;
  visible = false;
  disposed = false;
  private readonly valueChanged = new EventEmitter<string>();
  private readonly accepted = new EventEmitter<void>();
  private readonly hidden = new EventEmitter<void>();
  readonly onDidChangeValue = this.valueChanged.event;
  readonly onDidAccept = this.accepted.event;
  readonly onDidHide = this.hidden.event;
  show(): void {
    this.visible = true;
  }
  hide(): void {
    if (!this.visible) return;
    this.visible = false;
    this.hidden.fire();
  }
  dispose(): void {
    this.disposed = true;
  }
  type(value: string): void {
    this.value = value;
    this.valueChanged.fire(value);
  }
  accept(item: T): void {
    this.selectedItems = [item];
    this.accepted.fire();
  }
}

/** What the tests script and observe. */
export const ui = {
  config: {} as Record<string, unknown>,
  workspaceFolder: '/w' as string | undefined,
  messages: [] as Array<{ level: string; text: string; items: unknown[] }>,
  /** answers for show*Message, by call order; undefined = dismissed */
  messageAnswers: [] as Array<string | undefined>,
  inputAnswers: [] as Array<string | undefined>,
  quickPickAnswers: [] as Array<(items: unknown[]) => unknown>,
  quickPicks: [] as Array<FakeQuickPick<{ label: string }>>,
  commands: [] as Array<{ id: string; args: unknown[] }>,
  statusBar: { text: '', tooltip: '' as unknown, command: '' as unknown, name: '', show(): void {}, dispose(): void {} },
  output: [] as string[],
  clipboard: '',
  /** showTextDocument calls */
  shown: [] as unknown[],
  /** what workspace.findFiles finds (absolute paths), and the calls it got */
  files: [] as string[],
  findFilesCalls: [] as Array<{ include: string; exclude: string | undefined }>,
  /** settings of other sections (files.exclude, search.exclude) */
  sections: {} as Record<string, Record<string, unknown>>,
  /** ConfigurationTarget of each config.update */
  updateTargets: [] as unknown[],
  reset(): void {
    this.files = [];
    this.findFilesCalls = [];
    this.sections = {};
    this.updateTargets = [];
    this.config = {};
    this.workspaceFolder = '/w';
    this.messages = [];
    this.messageAnswers = [];
    this.inputAnswers = [];
    this.quickPickAnswers = [];
    this.quickPicks = [];
    this.commands = [];
    this.output = [];
    this.clipboard = '';
    this.shown = [];
    this.statusBar.text = '';
  },
};

const showMessage =
  (level: string) =>
  async (text: string, ...rest: unknown[]): Promise<string | undefined> => {
    const items = rest.filter((r) => typeof r === 'string');
    ui.messages.push({ level, text, items });
    return ui.messageAnswers.shift();
  };

export const window = {
  createStatusBarItem: () => ui.statusBar,
  createOutputChannel: () => ({
    appendLine: (l: string) => ui.output.push(l),
    show: () => ui.commands.push({ id: 'output.show', args: [] }),
    dispose: () => undefined,
  }),
  showErrorMessage: showMessage('error'),
  showWarningMessage: showMessage('warning'),
  showInformationMessage: showMessage('info'),
  showInputBox: async (): Promise<string | undefined> => ui.inputAnswers.shift(),
  showQuickPick: async (items: unknown[]): Promise<unknown> => {
    const answer = ui.quickPickAnswers.shift();
    return answer ? answer(items) : undefined;
  },
  createQuickPick: <T extends { label: string }>(): FakeQuickPick<T> => {
    const qp = new FakeQuickPick<T>();
    ui.quickPicks.push(qp as unknown as FakeQuickPick<{ label: string }>);
    return qp;
  },
  onDidChangeTextEditorSelection: () => ({ dispose: () => undefined }),
  onDidChangeActiveTextEditor: () => ({ dispose: () => undefined }),
  activeTextEditor: undefined as unknown,
  visibleTextEditors: [] as unknown[],
  showTextDocument: async (doc: { uri?: unknown }, options?: Record<string, unknown>): Promise<void> => {
    ui.shown.push({ uri: doc?.uri, ...options });
  },
  setStatusBarMessage: (text: string) => {
    ui.output.push(text);
    return { dispose: () => undefined };
  },
};

export const env = {
  clipboard: {
    writeText: async (text: string): Promise<void> => {
      ui.clipboard = text;
    },
  },
};

export const commands = {
  executeCommand: async (id: string, ...args: unknown[]): Promise<unknown> => {
    ui.commands.push({ id, args });
    return undefined;
  },
  registerCommand: () => ({ dispose: () => undefined }),
};

export const workspace = {
  getConfiguration: (section?: string) => {
    const values = section && section !== 'agentLs' ? (ui.sections[section] ?? {}) : ui.config;
    return {
      get: <T>(key: string, def: T): T => (key in values ? (values[key] as T) : def),
      inspect: (key: string) => ({ key, globalValue: values[key] }),
      update: async (key: string, value: unknown, target?: unknown): Promise<void> => {
        values[key] = value;
        ui.updateTargets.push(target);
      },
    };
  },
  findFiles: async (include: string, exclude?: string): Promise<Uri[]> => {
    ui.findFilesCalls.push({ include, exclude });
    return ui.files.map((f) => Uri.file(f));
  },
  getWorkspaceFolder: (uri: Uri): { uri: Uri } | undefined =>
    ui.workspaceFolder && uri.path.startsWith(`${ui.workspaceFolder}/`) ? { uri: Uri.file(ui.workspaceFolder) } : undefined,
  get workspaceFolders(): Array<{ uri: Uri }> | undefined {
    return ui.workspaceFolder ? [{ uri: Uri.file(ui.workspaceFolder) }] : undefined;
  },
  asRelativePath: (p: Uri | string): string => {
    const s = typeof p === 'string' ? p : p.path;
    return ui.workspaceFolder && s.startsWith(`${ui.workspaceFolder}/`) ? s.slice(ui.workspaceFolder.length + 1) : s;
  },
  textDocuments: [] as unknown[],
  openTextDocument: async (uri: Uri): Promise<unknown> => ({ uri }),
};

export class CodeActionKind {
  static readonly QuickFix = new CodeActionKind('quickfix');
  constructor(readonly value: string) {}
}

export class CodeAction {
  command?: { command: string; title: string; arguments?: unknown[] };
  constructor(
    readonly title: string,
    readonly kind?: CodeActionKind,
  ) {}
}
