import type { Request, Response } from 'express';
import { html, type Html } from './html.js';
import { chooseLang, isLangChosen, setLangCookie, switchLangHref, translator, type Lang, type Translate } from './i18n.js';
import type { MessageKey } from './messages/zh.js';
import { csrfToken, isSecure, parseCookies } from './security.js';

/** What a page handler knows about the request it answers. */
export interface PageContext {
  req: Request;
  res: Response;
  lang: Lang;
  t: Translate;
  cookies: Record<string, string>;
  /** The browser's CSRF token, for the hidden field of every POST form. */
  csrf: string;
}

export function pageContext(req: Request, res: Response): PageContext {
  const cookies = parseCookies(req.headers.cookie);
  const choice = chooseLang(req, cookies);
  if (isLangChosen(choice)) setLangCookie(res, choice.lang, isSecure(req));
  return { req, res, lang: choice.lang, t: translator(choice.lang), cookies, csrf: csrfToken(req, res, cookies) };
}

export interface FieldError {
  /** The id of the input the message is about (the summary links to it). */
  field: string;
  message: string;
}

export interface PageOptions {
  /** The page's one heading and (with the service name) its title. */
  title: string;
  body: Html;
  errors?: FieldError[];
  /** Which of the four areas the page belongs to (marked in the navigation). */
  area?: 'verify' | 'apply' | 'review' | 'log';
  /** Served modules this page uses (names under /assets/). */
  scripts?: string[];
  status?: number;
}

const AREAS: Array<{ id: NonNullable<PageOptions['area']>; href: string; label: MessageKey }> = [
  { id: 'verify', href: '/verify', label: 'nav.verify' },
  { id: 'apply', href: '/apply', label: 'nav.apply' },
  { id: 'review', href: '/review', label: 'nav.review' },
  { id: 'log', href: '/log', label: 'nav.log' },
];

/** Sends a whole page in the service's layout. */
export function sendPage(ctx: PageContext, options: PageOptions): void {
  const { t, lang } = ctx;
  const other: Lang = lang === 'zh' ? 'en' : 'zh';
  const errors = options.errors ?? [];
  const title = errors.length > 0 ? t('error.titlePrefix', { title: options.title }) : options.title;
  const page = html`<!doctype html>
    <html lang="${lang === 'zh' ? 'zh-CN' : 'en'}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} – ${t('service.name')}</title>
        <link rel="stylesheet" href="/assets/app.css" />
        <script type="module" src="/assets/app.js"></script>
        ${(options.scripts ?? []).map((s) => html`<script type="module" src="/assets/${s}"></script> `)}
      </head>
      <body>
        <a class="skip-link" href="#main">${t('layout.skip')}</a>
        <header class="header">
          <div class="width header-row">
            <a class="header-name" href="/">${t('service.name')}</a>
            <a
              class="lang-switch"
              href="${switchLangHref(ctx.req, other)}"
              lang="${other === 'zh' ? 'zh-CN' : 'en'}"
              hreflang="${other === 'zh' ? 'zh-CN' : 'en'}"
              >${t('layout.switchLang')}</a
            >
          </div>
          <nav class="width nav" aria-label="${t('nav.label')}">
            <ul>
              ${AREAS.map(
                (a) => html`<li><a href="${a.href}" ${a.id === options.area ? html` aria-current="page"` : ''}>${t(a.label)}</a></li>`,
              )}
            </ul>
          </nav>
        </header>
        <div class="width">
          <main id="main" tabindex="-1">
            ${errors.length > 0 ? errorSummary(t, errors) : ''}
            <h1>${options.title}</h1>
            ${options.body}
          </main>
        </div>
        <footer class="footer"><div class="width">${t('layout.footer')}</div></footer>
      </body>
    </html> `;
  ctx.res.status(options.status ?? 200);
  ctx.res.setHeader('Content-Type', 'text/html; charset=utf-8');
  ctx.res.send(page.value);
}

export function errorSummary(t: Translate, errors: FieldError[]): Html {
  return html`<div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" data-error-summary>
    <h2 id="error-summary-title" class="error-summary-title">${t('error.summaryTitle')}</h2>
    <ul class="error-summary-list">
      ${errors.map((e) => html`<li><a href="#${e.field}">${e.message}</a></li>`)}
    </ul>
  </div>`;
}

/** The message shown above an input that has an error (GOV.UK's error message pattern). */
export function fieldError(t: Translate, errors: FieldError[] | undefined, field: string): Html | '' {
  const e = errors?.find((x) => x.field === field);
  return e === undefined
    ? ''
    : html`<p class="field-error" id="${field}-error"><span class="visually-hidden">${t('error.prefix')}</span> ${e.message}</p>`;
}

export function hasError(errors: FieldError[] | undefined, field: string): boolean {
  return errors?.some((e) => e.field === field) ?? false;
}

/** The hidden field that carries the CSRF token in a POST form. */
export function csrfField(ctx: PageContext): Html {
  return html`<input type="hidden" name="csrf" value="${ctx.csrf}" />`;
}

/** A definition list of label/value rows (GOV.UK summary list). */
export function summaryList(rows: Array<[string, Html | string | number | null | undefined]>): Html {
  return html`<dl class="summary-list">
    ${rows.map(
      ([k, v]) =>
        html`<div class="summary-row">
          <dt>${k}</dt>
          <dd>${v === null || v === undefined || v === '' ? '—' : v}</dd>
        </div>`,
    )}
  </dl>`;
}

/** Formats an RFC 3339 time for people, in China Standard Time (the registry's time zone). */
export function formatTime(lang: Lang, iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: 'Asia/Shanghai',
    dateStyle: 'medium',
    timeStyle: 'medium',
  }).format(d)} (UTC+8)`;
}
