/**
 * A session's running usage: token totals from every model call (reloaded assistant items and
 * live `usage` updates), the cost where the model's price is known, and how full the context
 * window was at the last call. Pure: the reducer keeps it in the panel's state.
 */
import type { Usage } from './protocol';

export interface SessionUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** USD; undefined once any call's model had no known price */
  cost?: number;
  /** tokens in the context window at the last call (its input, cached input and output) */
  contextTokens: number;
  model?: string;
  calls: number;
}

/** USD per million tokens; cache reads cost a tenth of input, cache writes 1.25 times. */
interface Price {
  input: number;
  output: number;
}

/** Published Anthropic prices by model family (the longest matching prefix wins). */
const PRICES: Array<[prefix: string, price: Price]> = [
  ['claude-opus-4-5', { input: 5, output: 25 }],
  ['claude-opus-4-6', { input: 5, output: 25 }],
  ['claude-opus-4', { input: 15, output: 75 }],
  ['claude-sonnet-4', { input: 3, output: 15 }],
  ['claude-3-7-sonnet', { input: 3, output: 15 }],
  ['claude-haiku-4', { input: 1, output: 5 }],
  ['claude-3-5-haiku', { input: 0.8, output: 4 }],
];

export const CONTEXT_WINDOW = 200_000;

export function modelPrice(model: string | undefined): Price | undefined {
  if (!model) return undefined;
  let best: [string, Price] | undefined;
  for (const entry of PRICES) if (model.startsWith(entry[0]) && (!best || entry[0].length > best[0].length)) best = entry;
  return best?.[1];
}

function num(u: Usage, camel: string, snake: string): number {
  const v = u[camel] ?? u[snake];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

export function emptyUsage(): SessionUsage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, cost: 0, contextTokens: 0, calls: 0 };
}

/** One model call's usage added (live updates are camelCase, stored entries Anthropic's snake_case). */
export function addUsage(total: SessionUsage, usage: Usage | undefined, model: string | undefined): SessionUsage {
  if (!usage || typeof usage !== 'object') return total;
  const input = num(usage, 'inputTokens', 'input_tokens');
  const output = num(usage, 'outputTokens', 'output_tokens');
  const cacheRead = num(usage, 'cacheReadInputTokens', 'cache_read_input_tokens');
  const cacheWrite = num(usage, 'cacheCreationInputTokens', 'cache_creation_input_tokens');
  if (!input && !output && !cacheRead && !cacheWrite) return total;
  const price = modelPrice(model ?? total.model);
  const cost =
    total.cost === undefined || !price
      ? undefined
      : total.cost + (input * price.input + cacheRead * price.input * 0.1 + cacheWrite * price.input * 1.25 + output * price.output) / 1e6;
  return {
    inputTokens: total.inputTokens + input,
    outputTokens: total.outputTokens + output,
    cacheReadTokens: total.cacheReadTokens + cacheRead,
    cacheWriteTokens: total.cacheWriteTokens + cacheWrite,
    cost,
    contextTokens: input + cacheRead + cacheWrite + output,
    model: model ?? total.model,
    calls: total.calls + 1,
  };
}

const tokens = (n: number): string => (n >= 10_000 ? `${(n / 1000).toFixed(n >= 100_000 ? 0 : 1)}k` : n.toLocaleString('en-US'));

/** "12.3k in · 1,204 out · $0.05 · context 9% of 200k" (the cost only when the price is known). */
export function usageSummary(u: SessionUsage, contextWindow = CONTEXT_WINDOW): string {
  const parts = [`${tokens(u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens)} in`, `${tokens(u.outputTokens)} out`];
  if (u.cost !== undefined) parts.push(u.cost < 0.01 ? '<$0.01' : `$${u.cost.toFixed(2)}`);
  parts.push(`context ${contextFill(u, contextWindow)}% of ${Math.round(contextWindow / 1000)}k`);
  return parts.join(' · ');
}

export function contextFill(u: SessionUsage, contextWindow = CONTEXT_WINDOW): number {
  return Math.min(100, Math.round((u.contextTokens / contextWindow) * 100));
}
