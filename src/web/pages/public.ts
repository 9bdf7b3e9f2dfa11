import type { Request, Response } from 'express';
import type { CertificateStatus } from '../../ca/authority.js';
import type { Enterprise } from '../../registry/types.js';
import { html } from '../html.js';
import { fieldError, formatTime, hasError, pageContext, sendPage, summaryList, type FieldError } from '../layout.js';

/**
 * The other public pages: the revoked-enterprise list (search by USCC or name, keyset paging over
 * the registry's paged query) and a certificate's status by serial (the state the OCSP responder
 * signs). Both are GET forms: bookmarkable, no JavaScript, nothing changes.
 */

export interface PublicPageDeps {
  listEnterprises(options: { status: 'revoked'; search?: string; after?: string; limit: number }): Promise<Enterprise[]>;
  certificateStatus(serialHex: string): Promise<CertificateStatus>;
}

export const REVOKED_PAGE_SIZE = 20;
const USCC_CURSOR = /^[0-9A-Z]{18}$/;

function queryText(req: Request, name: string, max: number): string | undefined {
  const v = req.query[name];
  if (typeof v !== 'string') return undefined;
  const trimmed = v.trim();
  return trimmed === '' ? undefined : trimmed.slice(0, max);
}

export function revokedPage(deps: PublicPageDeps): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    const ctx = pageContext(req, res);
    const { t, lang } = ctx;
    const search = queryText(req, 'q', 100);
    const afterText = queryText(req, 'after', 18);
    const after = afterText !== undefined && USCC_CURSOR.test(afterText) ? afterText : undefined;
    const rows = await deps.listEnterprises({
      status: 'revoked',
      ...(search === undefined ? {} : { search }),
      ...(after === undefined ? {} : { after }),
      limit: REVOKED_PAGE_SIZE + 1,
    });
    const page = rows.slice(0, REVOKED_PAGE_SIZE);
    const more = rows.length > REVOKED_PAGE_SIZE;
    const link = (cursor: string | undefined): string => {
      const p = new URLSearchParams();
      if (search !== undefined) p.set('q', search);
      if (cursor !== undefined) p.set('after', cursor);
      const s = p.toString();
      return s === '' ? '/revoked' : `/revoked?${s}`;
    };
    sendPage(ctx, {
      title: t('revoked.title'),
      area: 'verify',
      body: html`<p class="lead">${t('revoked.lead')}</p>
        <form method="get" action="/revoked" class="search" role="search">
          <div class="form-group">
            <label class="label" for="q">${t('revoked.searchLabel')}</label>
            <p class="hint" id="q-hint">${t('revoked.searchHint')}</p>
            <input class="input" id="q" name="q" type="search" maxlength="100" value="${search ?? ''}" aria-describedby="q-hint" />
          </div>
          <button class="button" type="submit">${t('revoked.search')}</button>
        </form>
        ${
          page.length === 0
            ? html`<p class="empty" data-results="0">${search === undefined ? t('revoked.none') : t('revoked.noMatch', { q: search })}</p>`
            : html`<div class="table-wrap">
                <table class="table" data-results="${page.length}">
                  <caption class="visually-hidden">
                    ${t('revoked.title')}
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">${t('revoked.uscc')}</th>
                      <th scope="col">${t('revoked.name')}</th>
                      <th scope="col">${t('revoked.status')}</th>
                      <th scope="col">${t('revoked.since')}</th>
                      <th scope="col">${t('revoked.reason')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${page.map(
                      (e) =>
                        html`<tr>
                          <td><code>${e.uscc}</code></td>
                          <td>${e.name}</td>
                          <td>${t(e.status === 'revoked' ? 'revoked.statusRevoked' : 'revoked.statusDeregistered')}</td>
                          <td>${formatTime(lang, e.statusChangedAt)}</td>
                          <td>${e.statusReason ?? '—'}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </div>`
        }
        <nav class="pagination" aria-label="${t('paging.label')}">
          ${after !== undefined ? html`<a class="link" href="${link(undefined)}">${t('paging.first')}</a>` : ''}
          ${more ? html`<a class="link" rel="next" href="${link(page[page.length - 1]!.uscc)}">${t('paging.next')}</a>` : ''}
        </nav>`,
    });
  };
}

/** Serials as people copy them: hex, maybe with colons or spaces, maybe with 0x. */
export function normalizeSerial(text: string): string | undefined {
  const s = text.trim().replace(/^0x/i, '').replace(/[\s:]/g, '').toLowerCase();
  return /^[0-9a-f]{1,40}$/.test(s) ? s : undefined;
}

export function certificatePage(deps: PublicPageDeps): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    const ctx = pageContext(req, res);
    const { t, lang } = ctx;
    const given = typeof req.query['serial'] === 'string' ? req.query['serial'].slice(0, 200) : undefined;
    const errors: FieldError[] = [];
    let serial: string | undefined;
    if (given !== undefined) {
      serial = normalizeSerial(given);
      if (given.trim() === '') errors.push({ field: 'serial', message: t('certificate.errorEmpty') });
      else if (serial === undefined) errors.push({ field: 'serial', message: t('certificate.errorFormat') });
    }
    const status = serial === undefined || errors.length > 0 ? undefined : await deps.certificateStatus(serial);
    const invalid = hasError(errors, 'serial');
    sendPage(ctx, {
      title: t('certificate.title'),
      area: 'verify',
      errors: errors.length > 0 ? errors : undefined,
      status: errors.length > 0 ? 400 : 200,
      body: html`<p class="lead">${t('certificate.lead')}</p>
        <form method="get" action="/certificate" novalidate>
          <div class="form-group${invalid ? ' form-group-error' : ''}">
            <label class="label" for="serial">${t('certificate.serialLabel')}</label>
            <p class="hint" id="serial-hint">${t('certificate.serialHint')}</p>
            ${fieldError(t, errors, 'serial')}
            <input
              class="input input-code${invalid ? ' input-error' : ''}"
              id="serial"
              name="serial"
              type="text"
              spellcheck="false"
              autocomplete="off"
              value="${given ?? ''}"
              aria-describedby="serial-hint${invalid ? ' serial-error' : ''}"
            />
          </div>
          <button class="button" type="submit">${t('certificate.check')}</button>
        </form>
        ${
          status === undefined
            ? ''
            : html`<div class="status-result status-${status.status}" id="certificate-status" data-status="${status.status}" role="status">
                <h2>
                  ${t(status.status === 'good' ? 'certificate.good' : status.status === 'revoked' ? 'certificate.revoked' : 'certificate.unknown')}
                </h2>
                ${summaryList([
                  [t('certificate.serial'), html`<code class="hash">${serial}</code>`],
                  ...(status.status === 'revoked'
                    ? ([
                        [t('certificate.revokedAt'), formatTime(lang, status.revokedAt.toISOString())],
                        [t('certificate.reason'), status.reason],
                      ] as Array<[string, string]>)
                    : []),
                ])}
                <p class="hint">${t('certificate.ocspNote')}</p>
              </div>`
        }`,
    });
  };
}
