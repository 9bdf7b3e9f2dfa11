import { describe, expect, it } from 'vitest';
import { readMultipart } from '../../src/http/routes/submissions.js';
import { expectCode } from '../helpers/expect-code.js';

/** The documented multipart/form-data form of a detached submission, parsed strictly. */
const form = (parts: string[], boundary = 'b0und'): Buffer =>
  Buffer.from(`${parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('')}--${boundary}--\r\n`, 'latin1');
const part = (name: string, body: string, type = 'application/octet-stream') =>
  `Content-Disposition: form-data; name="${name}"; filename="${name}"\r\nContent-Type: ${type}\r\n\r\n${body}`;

describe('readMultipart', () => {
  it('reads the envelope and content parts byte for byte', () => {
    const got = readMultipart(
      form([part('envelope', '\x30\x03\x02\x01\x00', 'application/cms'), part('content', '{"a":1}\r\n', 'application/json')]),
      'multipart/form-data; boundary=b0und',
    );
    expect(got.envelope).toEqual(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]));
    expect(got.content?.toString()).toBe('{"a":1}\r\n');
  });

  it('accepts a quoted boundary, a preamble, and an envelope without content', () => {
    const body = Buffer.concat([Buffer.from('preamble\r\n'), form([part('envelope', 'E')], 'x y')]);
    expect(readMultipart(body, 'multipart/form-data; boundary="x y"')).toEqual({ envelope: Buffer.from('E') });
  });

  it.each([
    ['no boundary', form([part('envelope', 'E')]), 'multipart/form-data'],
    ['an unknown part', form([part('envelope', 'E'), part('extra', 'X')]), 'multipart/form-data; boundary=b0und'],
    ['a repeated part', form([part('envelope', 'E'), part('envelope', 'F')]), 'multipart/form-data; boundary=b0und'],
    ['no envelope', form([part('content', 'C')]), 'multipart/form-data; boundary=b0und'],
    [
      'no closing delimiter',
      Buffer.from('--b0und\r\nContent-Disposition: form-data; name="envelope"\r\n\r\nE'),
      'multipart/form-data; boundary=b0und',
    ],
  ])('refuses %s with ERR_HTTP_BAD_REQUEST', async (_what, body, type) => {
    await expectCode(() => readMultipart(body, type), 'ERR_HTTP_BAD_REQUEST');
  });
});
