import type { Request, Response } from 'express';
import { en } from './messages/en.js';
import { zh, type MessageKey } from './messages/zh.js';

/**
 * The page language: Simplified Chinese unless English is asked for. `?lang=en|zh` chooses and is
 * remembered in a cookie; without it the cookie, then Accept-Language (the first of zh/en by
 * quality) decide.
 */
export type Lang = 'zh' | 'en';
export const LANGS: readonly Lang[] = ['zh', 'en'];
export const LANG_COOKIE = 'chancery_lang';

const CATALOGUES: Record<Lang, Record<MessageKey, string>> = { zh, en };

export interface Translate {
  (key: MessageKey, params?: Record<string, string | number>): string;
  /** Whether the catalogue has this key (for labels that fall back to a policy's own text). */
  has(key: string): boolean;
}

export function translator(lang: Lang): Translate {
  const catalogue = CATALOGUES[lang];
  const t = (key: MessageKey, params?: Record<string, string | number>): string => {
    const text = catalogue[key];
    if (params === undefined) return text;
    return text.replace(/\{([a-zA-Z0-9]+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
  };
  return Object.assign(t, { has: (key: string) => Object.hasOwn(catalogue, key) });
}

export interface LangChoice {
  lang: Lang;
  /** True when `?lang=` asked for it (then it is remembered). */
  chosen: boolean;
}

export function isLangChosen(choice: LangChoice): boolean {
  return choice.chosen;
}

export function chooseLang(req: Request, cookies: Record<string, string>): LangChoice {
  const asked = req.query['lang'];
  if (asked === 'en' || asked === 'zh') return { lang: asked, chosen: true };
  const remembered = cookies[LANG_COOKIE];
  if (remembered === 'en' || remembered === 'zh') return { lang: remembered, chosen: false };
  return { lang: fromAcceptLanguage(req.headers['accept-language']), chosen: false };
}

/** The first of zh and en by quality in an Accept-Language header; zh when neither is named. */
export function fromAcceptLanguage(header: string | undefined): Lang {
  if (header === undefined) return 'zh';
  let best: { lang: Lang; q: number } | undefined;
  for (const part of header.split(',').slice(0, 32)) {
    const [tag = '', ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q) || q <= 0) continue;
    const lang: Lang | undefined = tag === 'zh' || tag.startsWith('zh-') ? 'zh' : tag === 'en' || tag.startsWith('en-') ? 'en' : undefined;
    if (lang !== undefined && (best === undefined || q > best.q)) best = { lang, q };
  }
  return best?.lang ?? 'zh';
}

/** The current URL with `lang` set to `lang` (other query parameters kept). */
export function switchLangHref(req: Request, lang: Lang): string {
  const url = new URL(req.originalUrl, 'http://x');
  url.searchParams.set('lang', lang);
  return `${url.pathname}${url.search}`;
}

export function setLangCookie(res: Response, lang: Lang, secure: boolean): void {
  res.append('Set-Cookie', `${LANG_COOKIE}=${lang}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`);
}
