import { describe, expect, it } from 'vitest';
import { html, raw } from '../../src/web/html.js';
import { fromAcceptLanguage, translator } from '../../src/web/i18n.js';
import { en } from '../../src/web/messages/en.js';
import { zh } from '../../src/web/messages/zh.js';
import { multipartBoundary, parseMultipart, WebFormError } from '../../src/web/forms.js';
import { csrfValid, parseCookies } from '../../src/web/security.js';
import { normalizeSerial } from '../../src/web/pages/public.js';
import type { Request } from 'express';

describe('message catalogues', () => {
  it('zh and en have exactly the same keys, none empty, with the same parameters', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
    const params = (s: string): string[] => [...s.matchAll(/\{([a-zA-Z0-9]+)\}/g)].map((m) => m[1]!).sort();
    for (const key of Object.keys(zh) as Array<keyof typeof zh>) {
      expect(zh[key].trim(), key).not.toBe('');
      expect(en[key].trim(), key).not.toBe('');
      expect(params(en[key]), key).toEqual(params(zh[key]));
    }
  });

  it('the zh catalogue is Chinese: every sentence-like entry has a CJK character', () => {
    const latinOnly = Object.entries(zh).filter(([k, v]) => !/[\u4e00-\u9fff]/.test(v) && k !== 'layout.switchLang');
    expect(latinOnly).toEqual([]);
  });

  it('fills parameters and leaves unknown ones visible', () => {
    expect(translator('en')('report.count', { valid: 2, total: 3 })).toBe('2 of 3 signatures are valid.');
    expect(translator('zh')('report.count', { valid: 2 })).toBe('{total} 个签名中有 2 个有效。');
  });
});

describe('html template', () => {
  it('escapes every interpolation unless it is Html, including inside attributes and arrays', () => {
    const evil = `"><script>alert('x')</script>&`;
    const out = html`<a title="${evil}">${evil}</a>${[evil, html`<b>${evil}</b>`]}${null}${undefined}${false}${0}`.value;
    expect(out).not.toContain('<script>');
    expect(out).toBe(
      '<a title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</a>' +
        '&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;<b>&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</b>0',
    );
    expect(html`${raw('<i>ok</i>')}`.value).toBe('<i>ok</i>');
  });
});

describe('language choice', () => {
  it('takes the first of zh and en by quality; zh otherwise', () => {
    expect(fromAcceptLanguage(undefined)).toBe('zh');
    expect(fromAcceptLanguage('fr-FR,de;q=0.8')).toBe('zh');
    expect(fromAcceptLanguage('en-GB,en;q=0.9,zh-CN;q=0.8')).toBe('en');
    expect(fromAcceptLanguage('zh-TW;q=0.5,en;q=0.4')).toBe('zh');
    expect(fromAcceptLanguage('en;q=0.3,zh-CN;q=0.9')).toBe('zh');
    expect(fromAcceptLanguage('en;q=0, fr')).toBe('zh');
  });
});

describe('multipart forms', () => {
  const body = (boundary: string, parts: string[]): Buffer =>
    Buffer.from(`${parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('')}--${boundary}--\r\n`, 'latin1');

  it('reads fields and files byte for byte, the first of a repeated name winning', () => {
    const bin = '\x00\x01\r\n--not-the-boundary\xff';
    const b = 'XyZ123';
    const form = parseMultipart(
      body(b, [
        'Content-Disposition: form-data; name="csrf"\r\n\r\ntoken',
        `Content-Disposition: form-data; name="envelope"; filename="a \\"b\\".p7m"\r\nContent-Type: application/octet-stream\r\n\r\n${bin}`,
        'Content-Disposition: form-data; name="csrf"\r\n\r\nsecond',
        'Content-Disposition: form-data; name="content"; filename=""\r\n\r\n',
      ]),
      b,
    );
    expect(form.fields.get('csrf')).toBe('token');
    expect(form.files.get('envelope')!.filename).toBe('a "b".p7m');
    expect(form.files.get('envelope')!.data).toEqual(Buffer.from(bin, 'latin1'));
    expect(form.files.get('content')!.data.length).toBe(0);
  });

  it('finds the boundary in the content type, quoted or not, and refuses a malformed body', () => {
    expect(multipartBoundary('multipart/form-data; boundary=----abc')).toBe('----abc');
    expect(multipartBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b"')).toBe('a b');
    expect(multipartBoundary('application/json')).toBeUndefined();
    expect(multipartBoundary(`multipart/form-data; boundary=${'x'.repeat(71)}`)).toBeUndefined();
    for (const bad of [
      Buffer.from('no boundary here'),
      Buffer.from('--b\r\nContent-Disposition: form-data; name="x"\r\n\r\nunterminated'),
      Buffer.from('--b\r\nX-Other: 1\r\n\r\nv\r\n--b--'),
      Buffer.from(`${'--b\r\nContent-Disposition: form-data; name="x"\r\n\r\nv\r\n'.repeat(17)}--b--`),
    ]) {
      expect(() => parseMultipart(bad, 'b')).toThrow(WebFormError);
    }
  });
});

describe('CSRF check', () => {
  const req = (headers: Record<string, string>): Request => ({ headers: { host: '127.0.0.1:8080', ...headers } }) as unknown as Request;
  const token = 'a'.repeat(43);

  it('needs the cookie and the field to be the same token, and a same-host Origin when one is sent', () => {
    const cookies = parseCookies(`other=1; chancery_csrf=${token}`);
    expect(csrfValid(req({}), cookies, token)).toBe(true);
    expect(csrfValid(req({ origin: 'http://127.0.0.1:8080' }), cookies, token)).toBe(true);
    expect(csrfValid(req({ origin: 'https://evil.example' }), cookies, token)).toBe(false);
    expect(csrfValid(req({ origin: 'null' }), cookies, token)).toBe(false);
    expect(csrfValid(req({}), cookies, 'b'.repeat(43))).toBe(false);
    expect(csrfValid(req({}), cookies, undefined)).toBe(false);
    expect(csrfValid(req({}), parseCookies(undefined), token)).toBe(false);
  });
});

describe('serial numbers as people type them', () => {
  it('accepts hex with colons, spaces or 0x, and nothing else', () => {
    expect(normalizeSerial(' 4F:1A:09 ')).toBe('4f1a09');
    expect(normalizeSerial('0x4f 1a')).toBe('4f1a');
    expect(normalizeSerial('xyz')).toBeUndefined();
    expect(normalizeSerial('')).toBeUndefined();
    expect(normalizeSerial('a'.repeat(41))).toBeUndefined();
  });
});
