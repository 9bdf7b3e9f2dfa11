import type { Request, Response } from 'express';
import type { Principal } from '../../auth/principal.js';
import { isChanceryError } from '../../errors.js';
import type { RequestContext } from '../../submissions/service.js';
import type { SubmissionStatus, SubmissionSummary, SubmissionView } from '../../submissions/types.js';
import { parseUrlEncoded, readBody, WebFormError } from '../forms.js';
import { html, type Html } from '../html.js';
import type { Translate } from '../i18n.js';
import { csrfField, formatTime, pageContext, sendPage, summaryList, type PageContext } from '../layout.js';
import type { MessageKey } from '../messages/zh.js';
import { csrfValid, isSecure } from '../security.js';
import { MAX_REASON_LENGTH } from '../../verify/decision-reason.js';
import { renderReport } from './verify.js';

/**
 * Signing in with a certificate and what a signed-in person sees. The PKCS#12 is opened and the
 * login challenge answered in the browser (/assets/signin.js); the page then posts only the
 * token the API issued, which becomes the session cookie (HttpOnly, SameSite=Strict, Secure
 * behind TLS). Enterprises see their applications with the status timeline and receipts;
 * officers see the queue of steps pending for their role and jurisdiction.
 */

export interface AccountDeps {
  authenticate(authorization: string | undefined, context: RequestContext): Promise<Principal>;
  submissions: {
    list(
      query: { status?: unknown; after?: unknown },
      caller: Principal,
      context: RequestContext,
    ): Promise<{ items: SubmissionSummary[]; next: string | null }>;
    get(id: string, caller: Principal, context: RequestContext): Promise<SubmissionView>;
    receipt(
      id: string,
      caller: Principal,
      context: RequestContext,
    ): Promise<{ receipt: string; logIndex: number; status: SubmissionStatus }>;
    envelope(id: string, caller: Principal, context: RequestContext): Promise<{ format: 'cms' | 'jws'; bytes: Buffer }>;
    /** The long-term evidence container (ASiC-E) of a submission whose workflow has ended. */
    evidence(id: string, caller: Principal, context: RequestContext): Promise<Buffer>;
    countersign(
      id: string,
      upload: { envelope: Uint8Array },
      caller: Principal,
      context: RequestContext,
    ): Promise<{ submission: SubmissionSummary }>;
  };
}

export const SESSION_COOKIE = 'chancery_session';
const TOKEN_SHAPE = /^[A-Za-z0-9._~+/=-]{16,4096}$/;

function requestContext(req: Request): RequestContext {
  return { method: req.method, path: req.path };
}

/** The signed-in principal, or undefined (a cookie whose token no longer holds is cleared). */
export async function sessionOf(ctx: PageContext, deps: AccountDeps): Promise<Principal | undefined> {
  const token = ctx.cookies[SESSION_COOKIE];
  if (token === undefined || !TOKEN_SHAPE.test(token)) return undefined;
  try {
    return await deps.authenticate(`Bearer ${token}`, requestContext(ctx.req));
  } catch (error) {
    if (!isChanceryError(error)) throw error;
    clearSession(ctx);
    return undefined;
  }
}

/**
 * Ends the session: its cookie, and the signing key kept in IndexedDB since sign-in, so that on a
 * shared office computer the next person finds neither (the origin's storage; other cookies,
 * such as the language, stay). Both at sign-out and when a page finds the session has expired.
 */
function clearSession(ctx: PageContext): void {
  ctx.res.setHeader('Clear-Site-Data', '"storage"');
  ctx.res.append('Set-Cookie', `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${isSecure(ctx.req) ? '; Secure' : ''}`);
}

function home(principal: Principal): string {
  return principal.role === 'officer' ? '/review' : '/applications';
}

function signedInBar(ctx: PageContext, principal: Principal): Html {
  return html`<div class="signed-in">
    <p>${ctx.t('account.signedInAs', { name: principal.name, actor: principal.actor })}</p>
    <form method="post" action="/signout">
      ${csrfField(ctx)}<button class="button button-secondary" type="submit">${ctx.t('account.signOut')}</button>
    </form>
  </div>`;
}

export function signinPage(_deps: AccountDeps) {
  return (req: Request, res: Response): void => {
    const ctx = pageContext(req, res);
    const { t } = ctx;
    const as = req.query['as'] === 'officer' ? 'officer' : 'enterprise';
    const m = (key: MessageKey): string => t(key);
    sendPage(ctx, {
      title: t(as === 'officer' ? 'signin.titleOfficer' : 'signin.titleEnterprise'),
      area: as === 'officer' ? 'review' : 'apply',
      scripts: ['signin.js'],
      body: html`<p class="lead">${t('signin.lead')}</p>
        <noscript
          ><div class="inset"><p>${t('signin.needsJs')}</p></div></noscript
        >
        <form
          id="signin-form"
          novalidate
          data-summary-title="${m('error.summaryTitle')}"
          data-no-file="${m('signin.errorNoFile')}"
          data-no-password="${m('signin.errorNoPassword')}"
          data-wrong-password="${m('signin.errorWrongPassword')}"
          data-not-pkcs12="${m('signin.errorNotPkcs12')}"
          data-no-key="${m('signin.errorNoKey')}"
          data-no-certificate="${m('signin.errorNoCertificate')}"
          data-key-mismatch="${m('signin.errorKeyMismatch')}"
          data-expired="${m('signin.errorExpired')}"
          data-not-yet-valid="${m('signin.errorNotYetValid')}"
          data-revoked="${m('signin.errorRevoked')}"
          data-refused="${m('signin.errorRefused')}"
        >
          <div class="form-group">
            <label class="label" for="p12">${t('signin.p12Label')}</label>
            <p class="hint" id="p12-hint">${t('signin.p12Hint')}</p>
            <input class="file-upload" id="p12" type="file" accept=".p12,.pfx,application/x-pkcs12" aria-describedby="p12-hint" />
          </div>
          <div class="form-group">
            <label class="label" for="password">${t('signin.passwordLabel')}</label>
            <input class="input" id="password" type="password" autocomplete="current-password" />
          </div>
          <button class="button js-only" type="submit" hidden>${t('signin.submit')}</button>
        </form>
        <form id="signin-done" method="post" action="/signin" hidden>${csrfField(ctx)}<input type="hidden" name="token" value="" /></form>`,
    });
  };
}

/** POST /signin: the token the browser obtained becomes the session, if it is a valid one. */
export function signinPost(deps: AccountDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const ctx = pageContext(req, res);
    let fields: Map<string, string>;
    try {
      fields = parseUrlEncoded(await readBody(req, 16 * 1024)).fields;
    } catch (error) {
      if (!(error instanceof WebFormError)) throw error;
      return refuse(ctx, 400, ctx.t('form.malformed'));
    }
    if (!csrfValid(req, ctx.cookies, fields.get('csrf'))) return refuse(ctx, 403, ctx.t('form.csrf'));
    const token = fields.get('token') ?? '';
    let principal: Principal;
    try {
      if (!TOKEN_SHAPE.test(token)) throw new WebFormError('ERR_WEB_FORM_MALFORMED', 'no token');
      principal = await deps.authenticate(`Bearer ${token}`, requestContext(req));
    } catch (error) {
      if (!isChanceryError(error)) throw error;
      return refuse(ctx, 401, ctx.t('signin.errorSession'));
    }
    const maxAge = Math.max(0, Math.floor((Date.parse(principal.expiresAt ?? '') - Date.now()) / 1000)) || 3600;
    res.append(
      'Set-Cookie',
      `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${isSecure(req) ? '; Secure' : ''}`,
    );
    res.redirect(303, home(principal));
  };
}

export function signoutPost() {
  return async (req: Request, res: Response): Promise<void> => {
    const ctx = pageContext(req, res);
    let fields: Map<string, string>;
    try {
      fields = parseUrlEncoded(await readBody(req, 16 * 1024)).fields;
    } catch (error) {
      if (!(error instanceof WebFormError)) throw error;
      return refuse(ctx, 400, ctx.t('form.malformed'));
    }
    if (!csrfValid(req, ctx.cookies, fields.get('csrf'))) return refuse(ctx, 403, ctx.t('form.csrf'));
    clearSession(ctx);
    res.redirect(303, '/');
  };
}

function refuse(ctx: PageContext, status: number, message: string): void {
  sendPage(ctx, {
    title: ctx.t('form.refusedTitle'),
    status,
    body: html`<p class="lead" data-refusal="${status}">${message}</p>
      <p><a class="link" href="/signin">${ctx.t('signin.again')}</a></p>`,
  });
}

const STATUS_KEY: Record<string, MessageKey> = {
  pending: 'status.pending',
  approved: 'status.approved',
  refused: 'status.refused',
  rejected: 'status.rejected',
  accepted: 'status.accepted',
};

function statusTag(t: Translate, status: string): Html {
  const cls = status === 'approved' || status === 'accepted' ? 'passed' : status === 'pending' ? 'indeterminate' : 'failed';
  return html`<span class="tag tag-${cls}" data-status="${status}"
    >${STATUS_KEY[status] === undefined ? status : t(STATUS_KEY[status])}</span
  >`;
}

function submissionTable(ctx: PageContext, items: SubmissionSummary[], officer: boolean): Html {
  const { t, lang } = ctx;
  if (items.length === 0) return html`<p class="empty" data-results="0">${t(officer ? 'review.empty' : 'applications.empty')}</p>`;
  return html`<div class="table-wrap">
    <table class="table" data-results="${items.length}">
      <caption class="visually-hidden">
        ${t(officer ? 'review.title' : 'applications.title')}
      </caption>
      <thead>
        <tr>
          <th scope="col">${t('applications.applicationId')}</th>
          <th scope="col">${t('applications.type')}</th>
          ${officer ? html`<th scope="col">${t('applications.applicant')}</th>` : ''}
          <th scope="col">${t('applications.status')}</th>
          <th scope="col">${t('applications.updated')}</th>
        </tr>
      </thead>
      <tbody>
        ${items.map(
          (s) =>
            html`<tr data-submission="${s.id}">
              <td><a class="link" href="/applications/${encodeURIComponent(s.id)}">${s.applicationId}</a></td>
              <td>${s.type ?? '—'}</td>
              ${officer ? html`<td><code>${s.applicant}</code></td>` : ''}
              <td>
                ${statusTag(t, s.status)}${s.nextStep === null ? '' : html` ${t('applications.nextStep', { role: s.nextStep.role })}`}
                ${
                  s.refusalReason === undefined
                    ? ''
                    : html`<p class="reason" data-refusal-reason>${t('applications.refusalReason')}: ${s.refusalReason}</p>`
                }
              </td>
              <td>${formatTime(lang, s.updatedAt)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function signInFirst(ctx: PageContext, as: 'enterprise' | 'officer'): void {
  ctx.res.redirect(303, `/signin${as === 'officer' ? '?as=officer' : ''}`);
}

export function applicationsPage(deps: AccountDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const ctx = pageContext(req, res);
    const principal = await sessionOf(ctx, deps);
    if (principal === undefined) return signInFirst(ctx, 'enterprise');
    const { items } = await deps.submissions.list({}, principal, requestContext(req));
    sendPage(ctx, {
      title: ctx.t('applications.title'),
      area: 'apply',
      body: html`${signedInBar(ctx, principal)}${submissionTable(ctx, items, principal.role === 'officer')}`,
    });
  };
}

export function reviewPage(deps: AccountDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const ctx = pageContext(req, res);
    const principal = await sessionOf(ctx, deps);
    if (principal === undefined) return signInFirst(ctx, 'officer');
    if (principal.role !== 'officer') {
      res.redirect(303, home(principal));
      return;
    }
    const { items } = await deps.submissions.list({ status: 'pending' }, principal, requestContext(req));
    sendPage(ctx, {
      title: ctx.t('review.title'),
      area: 'review',
      body: html`${signedInBar(ctx, principal)}
        <p>${ctx.t('review.lead', { role: principal.officer?.role ?? '', jurisdiction: principal.officer?.jurisdiction ?? '' })}</p>
        ${submissionTable(ctx, items, true)} `,
    });
  };
}

/**
 * The browser script that countersigns an envelope of each format (src/web/assets): the same form,
 * the envelope's own format signed the way `chancery countersign` signs it. A format without one
 * gets no decision form.
 */
const COUNTERSIGN_SCRIPT: Partial<Record<'cms' | 'jws', string>> = { cms: 'countersign-cms.js', jws: 'countersign.js' };

/** One application: the status timeline, the approval steps and their countersignatures, the report. */
export function applicationPage(deps: AccountDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const ctx = pageContext(req, res);
    const { t, lang } = ctx;
    const principal = await sessionOf(ctx, deps);
    if (principal === undefined) return signInFirst(ctx, 'enterprise');
    const id = String(req.params['id']);
    let view: SubmissionView;
    try {
      view = await deps.submissions.get(id, principal, requestContext(req));
    } catch (error) {
      if (!isChanceryError(error)) throw error;
      sendPage(ctx, { title: t('notFound.title'), status: 404, body: html`<p>${t('applications.notFound')}</p>` });
      return;
    }
    const base = `/applications/${encodeURIComponent(view.id)}`;
    const refusalReason = view.approval.steps.find((s) => s.countersignature?.decision === 'refuse')?.countersignature?.reason;
    const next = view.approval.nextStep === null ? undefined : view.approval.steps[view.approval.nextStep];
    const mayDecide =
      principal.role === 'officer' && view.status === 'pending' && next !== undefined && next.role === principal.officer?.role;
    const confirmation =
      req.query['submitted'] === '1'
        ? html`<div class="panel" id="confirmation" data-confirmation="submitted">
              <h2 class="panel-title">${t('applications.submittedTitle')}</h2>
              <p>${t('applications.reference')}<br /><strong class="panel-reference">${view.id}</strong></p>
            </div>
            <h2>${t('applications.whatNext')}</h2>
            <p>${t(`next.${view.status}` as MessageKey)}</p>`
        : req.query['countersigned'] === '1'
          ? html`<div class="panel" id="confirmation" data-confirmation="countersigned">
              <h2 class="panel-title">${t('review.recordedTitle')}</h2>
              <p>${t('applications.reference')}<br /><strong class="panel-reference">${view.id}</strong></p>
            </div>`
          : '';
    const countersignScript = COUNTERSIGN_SCRIPT[view.format];
    const decisionForm = !mayDecide
      ? ''
      : countersignScript === undefined
        ? ''
        : html`<h2>${t('review.decide')}</h2>
            <noscript
              ><div class="inset"><p>${t('apply.needsJs')}</p></div></noscript
            >
            <form
              id="countersign"
              novalidate
              data-envelope-url="${base}/envelope"
              data-post-url="${base}/countersign"
              data-page-url="${base}"
              data-csrf="${ctx.csrf}"
              data-msg-no-key="${t('apply.errorNoKey')}"
              data-msg-no-decision="${t('review.errorNoDecision')}"
              data-msg-no-reason="${t('review.errorNoReason')}"
              data-msg-reason-with-approval="${t('review.errorReasonWithApproval')}"
              data-msg-reason-invalid="${t('review.errorReasonInvalid', { max: MAX_REASON_LENGTH })}"
              data-msg-conflict="${t('review.errorConflict')}"
              data-msg-failed="${t('apply.errorFailed')}"
              data-summary-title="${t('error.summaryTitle')}"
            >
              <div class="form-group">
                <fieldset class="fieldset">
                  <legend class="label">${t('review.decisionLabel')}</legend>
                  <div class="radios">
                    ${(['approve', 'refuse', 'review'] as const).map(
                      (d) =>
                        html`<div class="radio">
                          <input type="radio" id="decision-${d}" name="decision" value="${d}" /><label for="decision-${d}"
                            >${t(`decision.${d}` as MessageKey)}</label
                          >
                        </div>`,
                    )}
                  </div>
                </fieldset>
              </div>
              <div class="form-group" id="reason-group">
                <label class="label" for="reason">${t('review.reasonLabel')}</label>
                <p class="hint" id="reason-hint">${t('review.reasonHint', { max: MAX_REASON_LENGTH })}</p>
                <textarea class="textarea textarea-text" id="reason" name="reason" rows="4" aria-describedby="reason-hint"></textarea>
              </div>
              <button class="button js-only" type="submit" hidden>${t('review.countersign')}</button>
            </form>`;
    sendPage(ctx, {
      title: t('applications.one', { id: view.applicationId }),
      area: principal.role === 'officer' ? 'review' : 'apply',
      scripts: mayDecide && countersignScript !== undefined ? [countersignScript] : [],
      body: html`${signedInBar(ctx, principal)} ${confirmation}
        <div class="status-result" id="application-status" data-status="${view.status}">
          <p>${statusTag(t, view.status)} ${t(`next.${view.status}` as MessageKey)}</p>
          ${refusalReason === undefined ? '' : html`<p class="reason" id="refusal-reason">${t('applications.refusalReason')}: ${refusalReason}</p>`}
        </div>
        ${summaryList([
          [t('applications.id'), html`<code>${view.id}</code>`],
          [t('applications.type'), view.type],
          [t('applications.applicant'), view.applicant],
          [t('applications.submitted'), formatTime(lang, view.submittedAt)],
          [t('report.documentSha256'), html`<code class="hash">${view.documentSha256}</code>`],
        ])}
        <p>
          <a class="button button-secondary" href="${base}/receipt" download>${t('applications.downloadReceipt')}</a>
          <a class="button button-secondary" href="${base}/envelope" download>${t('applications.downloadEnvelope')}</a>
          ${
            view.status === 'pending'
              ? ''
              : html`<a class="button button-secondary" href="${base}/evidence" download>${t('applications.downloadEvidence')}</a>`
          }
        </p>
        <h2>${t('applications.timeline')}</h2>
        <ol class="timeline">
          ${view.history.map(
            (h) =>
              html`<li class="timeline-item" data-transition="${h.status}">
                <p class="timeline-title">${statusTag(t, h.status)} ${formatTime(lang, h.at)}</p>
                <p>
                  ${t('applications.by', { actor: h.actor })} ·
                  <a class="link" href="/log/entry/${h.logIndex}">${t('applications.logEntry', { index: h.logIndex })}</a>
                </p>
              </li>`,
          )}
        </ol>
        <h2>${t('applications.steps')}</h2>
        ${
          view.approval.steps.length === 0
            ? html`<p>${t('applications.noSteps')}</p>`
            : html`<ol class="steps">
                ${view.approval.steps.map(
                  (s) =>
                    html`<li data-step="${s.index}">
                      ${t('applications.step', { role: s.role })}:
                      ${
                        s.countersignature === null
                          ? t('applications.stepWaiting')
                          : t('applications.stepSigned', {
                              officer: s.countersignature.officerId,
                              decision: t(`decision.${s.countersignature.decision}` as MessageKey),
                              time: formatTime(lang, s.countersignature.recordedAt),
                            })
                      }
                      ${
                        s.countersignature?.reason === undefined
                          ? ''
                          : html`<p class="reason" data-reason>
                              ${t(s.countersignature.decision === 'refuse' ? 'applications.refusalReason' : 'applications.reason')}:
                              ${s.countersignature.reason}
                            </p>`
                      }
                    </li>`,
                )}
              </ol>`
        }
        ${decisionForm}
        <h2>${t('applications.report')}</h2>
        ${renderReport(ctx, view.report, '')}`,
    });
  };
}

export function applicationDownload(deps: AccountDeps, what: 'receipt' | 'envelope' | 'evidence') {
  return async (req: Request, res: Response): Promise<void> => {
    const ctx = pageContext(req, res);
    const principal = await sessionOf(ctx, deps);
    if (principal === undefined) return signInFirst(ctx, 'enterprise');
    const id = String(req.params['id']);
    try {
      if (what === 'receipt') {
        const r = await deps.submissions.receipt(id, principal, requestContext(req));
        res.setHeader('Content-Type', 'application/jose; charset=utf-8');
        res.setHeader('Content-Disposition', `attachment; filename="receipt-${r.logIndex}.jws"`);
        res.send(r.receipt);
      } else if (what === 'evidence') {
        const container = await deps.submissions.evidence(id, principal, requestContext(req));
        res.setHeader('Content-Type', 'application/vnd.etsi.asic-e+zip');
        res.setHeader('Content-Disposition', `attachment; filename="evidence-${id}.asice"`);
        res.send(container);
      } else {
        const e = await deps.submissions.envelope(id, principal, requestContext(req));
        res.setHeader('Content-Type', e.format === 'cms' ? 'application/cms' : 'application/jose+json');
        res.setHeader('Content-Disposition', `attachment; filename="envelope.${e.format === 'cms' ? 'p7m' : 'jws'}"`);
        res.send(e.bytes);
      }
    } catch (error) {
      if (!isChanceryError(error)) throw error;
      sendPage(ctx, { title: ctx.t('notFound.title'), status: 404, body: html`<p>${ctx.t('applications.notFound')}</p>` });
    }
  };
}

/**
 * POST /applications/:id/countersign: the envelope the officer's browser countersigned, with the
 * CSRF token in a header (a script's request), recorded as the API's countersignature route
 * does. Answers JSON: the new status, or the refusal's code and message (409 when the step was
 * taken meanwhile).
 */
export function countersignPost(deps: AccountDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const ctx = pageContext(req, res);
    const answer = (status: number, body: Record<string, unknown>): void => {
      res.status(status).json(body);
    };
    const header = req.headers['x-csrf-token'];
    if (!csrfValid(req, ctx.cookies, typeof header === 'string' ? header : undefined)) {
      req.resume();
      return answer(403, { code: 'ERR_WEB_CSRF', detail: ctx.t('form.csrf') });
    }
    const principal = await sessionOf(ctx, deps);
    if (principal === undefined) {
      req.resume();
      return answer(401, { code: 'ERR_AUTH_TOKEN_MISSING', detail: ctx.t('signin.errorSession') });
    }
    let body: Buffer;
    try {
      body = await readBody(req, 4 * 1024 * 1024);
    } catch (error) {
      if (!(error instanceof WebFormError)) throw error;
      return answer(413, { code: error.code, detail: error.message });
    }
    try {
      const result = await deps.submissions.countersign(String(req.params['id']), { envelope: body }, principal, requestContext(req));
      answer(200, { status: result.submission.status });
    } catch (error) {
      if (!isChanceryError(error)) throw error;
      const conflict = ['ERR_SUBMISSION_STEP_TAKEN', 'ERR_SUBMISSION_CLOSED', 'ERR_SUBMISSION_COUNTERSIGNATURE_REPLAYED'].includes(
        error.code,
      );
      const status = conflict ? 409 : error.code === 'ERR_SUBMISSION_NOT_FOUND' ? 404 : error.code.startsWith('ERR_AUTH') ? 403 : 422;
      answer(status, { code: error.code, detail: error.message });
    }
  };
}
