/**
 * Images pasted or dropped into the prompt box: checked against the server's limits before they
 * are read (a clear sentence instead of a refused prompt), read as base64, shown as chips.
 */
import { type PromptImage, base64Bytes, imageDataUri, imageProblem, sizeLabel, typeLabel } from '../images';
import { button, h } from './dom';

/** Reads an image file that passed `imageProblem` as a prompt image. */
export function readImage(file: File, named: boolean): Promise<PromptImage> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      const image: PromptImage = { mediaType: file.type, data: url.slice(url.indexOf(',') + 1) };
      if (named && file.name) image.name = file.name;
      resolve(image);
    };
    reader.onerror = () => reject(reader.error ?? new Error(`"${file.name}" could not be read`));
    reader.readAsDataURL(file);
  });
}

/**
 * The files as images, and a sentence for each one refused (wrong type, over 5 MB, unreadable).
 * `named`: a dropped file's name is worth showing; a pasted screenshot's ("image.png") is not.
 */
export async function readImages(files: File[], named: boolean): Promise<{ images: PromptImage[]; problems: string[] }> {
  const images: PromptImage[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const problem = imageProblem(file.type, file.size, named ? file.name : undefined);
    if (problem) {
      problems.push(problem);
      continue;
    }
    try {
      images.push(await readImage(file, named));
    } catch (e) {
      problems.push(`${e instanceof Error ? e.message : String(e)}; try saving it and dropping the file.`);
    }
  }
  return { images, problems };
}

/** `PNG · 120 KB` (and the file's name when it has one). */
export function imageLabel(image: PromptImage): string {
  const what = `${typeLabel(image.mediaType)} · ${sizeLabel(base64Bytes(image.data))}`;
  return image.name ? `${image.name} (${what})` : what;
}

/** A small thumbnail, or nothing for data no `<img>` may show. */
export function thumbnail(image: PromptImage, alt: string): HTMLImageElement | undefined {
  const src = imageDataUri(image);
  return src ? h('img', { class: 'thumb', src, alt }) : undefined;
}

/** The chip of an image waiting in the prompt box: thumbnail, type and size, and × to remove it. */
export function imageChip(image: PromptImage, n: number, remove: () => void): HTMLElement {
  const label = imageLabel(image);
  return h(
    'span',
    { class: 'chip attached image', title: label, 'data-media-type': image.mediaType },
    thumbnail(image, `Image ${n}`),
    h('span', { class: 'label' }, label),
    button('×', remove, { 'aria-label': `Remove image ${n} (${label})`, class: 'remove' }),
  );
}

/** The images of a user message, as thumbnails. */
export function messageImages(images: PromptImage[]): HTMLElement | undefined {
  if (!images.length) return undefined;
  return h(
    'div',
    { class: 'images' },
    ...images.map((image, i) => {
      const label = imageLabel(image);
      return h('span', { class: 'image', title: label }, thumbnail(image, `Image ${i + 1}: ${label}`) ?? label);
    }),
  );
}
