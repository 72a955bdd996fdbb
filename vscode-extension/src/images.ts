/**
 * Images in a prompt (a pasted screenshot, a dropped picture): checked in the panel with the
 * server's limits (agent_ls/core/images.py, the Messages API's), so a bad one is refused where it
 * was pasted instead of failing the prompt; sent and stored as Anthropic `image` blocks.
 */
import type { ContentBlock } from './protocol';

export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

/** An image that goes with a prompt: base64 bytes and their type. */
export interface PromptImage {
  mediaType: string;
  /** base64, no `data:` prefix */
  data: string;
  /** the file's name, when it had one (a pasted screenshot has none worth showing) */
  name?: string;
}

/** `2.4 MB`, `310 KB`, `512 B`. */
export function sizeLabel(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}

/** `PNG`, `JPEG`, … for a chip. */
export function typeLabel(mediaType: string): string {
  return mediaType.replace(/^image\//, '').toUpperCase();
}

/** Why an image of `mediaType` and `bytes` cannot be sent (a sentence with the fix), or undefined. */
export function imageProblem(mediaType: string, bytes: number, name?: string): string | undefined {
  const what = name ? `"${name}"` : 'The image';
  if (!(IMAGE_TYPES as readonly string[]).includes(mediaType)) {
    return `${what} is of type ${mediaType || 'unknown'}: only PNG, JPEG, GIF or WebP images can be sent. Convert it to one of those and attach it again.`;
  }
  if (bytes > MAX_IMAGE_BYTES) {
    return `${what} is ${sizeLabel(bytes)}, over the 5 MB limit for an image. Send a smaller or more compressed one.`;
  }
  return undefined;
}

/** The size of base64 `data` in bytes. */
export function base64Bytes(data: string): number {
  const pad = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return Math.floor((data.length * 3) / 4) - pad;
}

/** The prompt as the server takes it: the text alone, or its text block then one block per image. */
export function promptContent(text: string, images: PromptImage[]): string | ContentBlock[] {
  if (!images.length) return text;
  // The API refuses an empty text block: an image sent alone goes without one.
  const blocks: ContentBlock[] = text.trim() ? [{ type: 'text', text }] : [];
  for (const i of images) blocks.push({ type: 'image', source: { type: 'base64', media_type: i.mediaType, data: i.data } });
  return blocks;
}

/** The images of a stored or streamed user message, in order. */
export function contentImages(blocks: ContentBlock[]): PromptImage[] {
  const out: PromptImage[] = [];
  for (const b of blocks) {
    if (b.type !== 'image') continue;
    const source = (b as { source?: { type?: unknown; media_type?: unknown; data?: unknown } }).source;
    if (source?.type !== 'base64' || typeof source.media_type !== 'string' || typeof source.data !== 'string') continue;
    out.push({ mediaType: source.media_type, data: source.data });
  }
  return out;
}

/** A `data:` URI for an `<img>` (the panel's CSP allows `img-src data:`), only for the four types. */
export function imageDataUri(image: PromptImage): string | undefined {
  if (!(IMAGE_TYPES as readonly string[]).includes(image.mediaType) || !/^[A-Za-z0-9+/]*={0,2}$/.test(image.data)) return undefined;
  return `data:${image.mediaType};base64,${image.data}`;
}
