import type { Request, Response } from 'express';
import { html } from '../html.js';
import { pageContext, sendPage } from '../layout.js';

/** `/`: what the service is, and the four ways in. */
export function homePage(req: Request, res: Response): void {
  const ctx = pageContext(req, res);
  const { t } = ctx;
  const card = (href: string, title: string, text: string) =>
    html`<li class="card">
      <h2 class="card-title"><a class="link" href="${href}">${title}</a></h2>
      <p>${text}</p>
    </li>`;
  sendPage(ctx, {
    title: t('home.title'),
    body: html`<p class="lead">${t('home.lead')}</p>
      <ul class="cards">
        ${card('/verify', t('home.verifyTitle'), t('home.verifyText'))} ${card('/apply', t('home.applyTitle'), t('home.applyText'))}
        ${card('/review', t('home.reviewTitle'), t('home.reviewText'))} ${card('/log', t('home.logTitle'), t('home.logText'))}
      </ul>
      <h2>${t('home.moreTitle')}</h2>
      <ul class="list">
        <li><a class="link" href="/revoked">${t('home.revokedLink')}</a></li>
        <li><a class="link" href="/certificate">${t('home.certificateLink')}</a></li>
        <li><a class="link" href="/openapi.json">${t('home.apiLink')}</a></li>
      </ul>`,
  });
}
