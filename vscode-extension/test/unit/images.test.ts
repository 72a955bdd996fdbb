/** Images in a prompt: the panel's checks (the server's limits) and the blocks a prompt is sent as. */
import { describe, expect, it } from 'vitest';

import { MAX_IMAGE_BYTES, base64Bytes, contentImages, imageDataUri, imageProblem, promptContent, sizeLabel } from '../../src/images';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

describe('image checks', () => {
  it('takes PNG, JPEG, GIF and WebP up to 5 MB, as the server does', () => {
    for (const type of ['image/png', 'image/jpeg', 'image/gif', 'image/webp']) expect(imageProblem(type, MAX_IMAGE_BYTES)).toBeUndefined();
    expect(MAX_IMAGE_BYTES).toBe(5 * 1024 * 1024);
  });

  it('refuses another type or a larger image with a sentence that says what to do', () => {
    expect(imageProblem('image/bmp', 10, 'scan.bmp')).toBe(
      '"scan.bmp" is of type image/bmp: only PNG, JPEG, GIF or WebP images can be sent. Convert it to one of those and attach it again.',
    );
    expect(imageProblem('', 10)).toContain('The image is of type unknown: only PNG, JPEG, GIF or WebP');
    expect(imageProblem('image/png', MAX_IMAGE_BYTES + 1)).toBe(
      'The image is 5.0 MB, over the 5 MB limit for an image. Send a smaller or more compressed one.',
    );
    expect(imageProblem('image/png', 7.3 * 1024 * 1024)).toContain('7.3 MB');
  });

  it('labels sizes and counts base64 bytes', () => {
    expect([sizeLabel(512), sizeLabel(120 * 1024), sizeLabel(2.4 * 1024 * 1024)]).toEqual(['512 B', '120 KB', '2.4 MB']);
    expect(base64Bytes(PNG)).toBe(70);
    expect(base64Bytes(Buffer.from('abcd').toString('base64'))).toBe(4);
  });
});

describe('a prompt with images', () => {
  const image = { mediaType: 'image/png', data: PNG };

  it('is the text alone without images, else the text block then one image block each', () => {
    expect(promptContent('Fix it', [])).toBe('Fix it');
    expect(promptContent('What is wrong here?', [image, { mediaType: 'image/jpeg', data: 'AAAA', name: 'shot.jpg' }])).toEqual([
      { type: 'text', text: 'What is wrong here?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: 'AAAA' } },
    ]);
  });

  it('sends an image alone without an empty text block (the API refuses one)', () => {
    expect(promptContent('  ', [image])).toEqual([{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }]);
  });

  it('reads the images back from stored content, and shows only safe ones', () => {
    const stored = [
      { type: 'text', text: 'Look' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
      { type: 'image', source: { type: 'url', url: 'https://example.invalid/x.png' } },
      { type: 'text', text: 'Attached file: a.py:\n```\n```' },
    ];
    expect(contentImages(stored)).toEqual([image]);
    expect(imageDataUri(image)).toBe(`data:image/png;base64,${PNG}`);
    expect(imageDataUri({ mediaType: 'image/svg+xml', data: PNG })).toBeUndefined();
    expect(imageDataUri({ mediaType: 'image/png', data: 'x"><script>' })).toBeUndefined();
  });
});
