import type { Request, Response } from 'express';
import type { PolicySet } from '../../policy/policy.js';
import type { Certificate } from '../../verify/certificate.js';
import { MAX_CONTENT_BYTES } from '../../verify/cms-parse.js';
import { verifyEnvelope } from '../../verify/envelope.js';
import { MAX_JWS_BYTES } from '../../verify/jws-parse.js';
import type { Indication } from '../../verify/report.js';
import type { RevocationSource } from '../../verify/revocation.js';
import type { SignatureReport, ValidationReport } from '../../verify/validation-report.js';
import { multipartBoundary, parseMultipart, readBody, WebFormError } from '../forms.js';
import { html, type Html } from '../html.js';
import type { Translate } from '../i18n.js';
import {
  csrfField,
  fieldError,
  formatTime,
  hasError,
  pageContext,
  sendPage,
  summaryList,
  type FieldError,
  type PageContext,
} from '../layout.js';
import type { MessageKey } from '../messages/zh.js';
import { csrfValid } from '../security.js';

/**
 * `/verify`: anyone checks a signed document. The form (multipart: `envelope`, optional
 * `content` for a detached envelope) works without JavaScript; the answer is the validation
 * report of the same verifier as `POST /api/v1/verify`, written out as a DSS-style report.
 */

export interface VerifyPageDeps {
  trust(): { anchors: readonly Certificate[]; intermediates: readonly Certificate[] };
  revocation: RevocationSource;
  policies: PolicySet;
  now?: () => Date;
}

/** An envelope at its largest, a detached document at its largest, and the form's own overhead. */
export const VERIFY_FORM_LIMIT = MAX_JWS_BYTES + MAX_CONTENT_BYTES + 64 * 1024;

export function verifyForm(ctx: PageContext, deps: VerifyPageDeps, errors?: FieldError[], chosenPolicy = 'auto'): void {
  const { t } = ctx;
  const policyOptions = [
    { value: 'auto', label: t('verify.policyAuto') },
    { value: 'none', label: t('verify.policyNone') },
    ...deps.policies.list().map((p) => ({ value: p.id, label: `${p.id} (v${p.version})` })),
  ];
  const envelopeInvalid = hasError(errors, 'envelope');
  sendPage(ctx, {
    title: t('verify.title'),
    area: 'verify',
    errors,
    status: errors === undefined ? 200 : 400,
    body: html`<p class="lead">${t('verify.lead')}</p>
      <form method="post" action="/verify" enctype="multipart/form-data" novalidate>
        ${csrfField(ctx)}
        <div class="form-group${envelopeInvalid ? ' form-group-error' : ''}">
          <label class="label" for="envelope">${t('verify.envelopeLabel')}</label>
          <p class="hint" id="envelope-hint">${t('verify.envelopeHint')}</p>
          ${fieldError(t, errors, 'envelope')}
          <input
            class="file-upload${envelopeInvalid ? ' input-error' : ''}"
            id="envelope"
            name="envelope"
            type="file"
            aria-describedby="envelope-hint${envelopeInvalid ? ' envelope-error' : ''}"
          />
        </div>
        <div class="form-group">
          <label class="label" for="content">${t('verify.contentLabel')}</label>
          <p class="hint" id="content-hint">${t('verify.contentHint')}</p>
          <input class="file-upload" id="content" name="content" type="file" aria-describedby="content-hint" />
        </div>
        <div class="form-group">
          <label class="label" for="policy">${t('verify.policyLabel')}</label>
          <select class="select" id="policy" name="policy">
            ${policyOptions.map(
              (o) => html`<option value="${o.value}" ${o.value === chosenPolicy ? html` selected` : ''}>${o.label}</option>`,
            )}
          </select>
        </div>
        <button class="button" type="submit">${t('verify.submit')}</button>
      </form>`,
  });
}

export function verifyPage(deps: VerifyPageDeps): {
  get: (req: Request, res: Response) => void;
  post: (req: Request, res: Response) => Promise<void>;
} {
  const now = deps.now ?? (() => new Date());
  return {
    get: (req, res) => verifyForm(pageContext(req, res), deps),
    post: async (req, res) => {
      const ctx = pageContext(req, res);
      const { t } = ctx;
      const boundary = multipartBoundary(req.headers['content-type']);
      if (boundary === undefined) {
        req.resume();
        refuse(ctx, 415, t('form.notMultipart'));
        return;
      }
      let form;
      try {
        form = parseMultipart(await readBody(req, VERIFY_FORM_LIMIT), boundary);
      } catch (error) {
        if (!(error instanceof WebFormError)) throw error;
        const tooLarge = error.code === 'ERR_WEB_FORM_TOO_LARGE';
        if (tooLarge) res.setHeader('Connection', 'close');
        refuse(
          ctx,
          tooLarge ? 413 : 400,
          tooLarge ? t('form.tooLarge', { mib: Math.floor(VERIFY_FORM_LIMIT / 1048576) }) : t('form.malformed'),
        );
        return;
      }
      if (!csrfValid(req, ctx.cookies, form.fields.get('csrf'))) {
        refuse(ctx, 403, t('form.csrf'));
        return;
      }
      const policyChoice = form.fields.get('policy') ?? 'auto';
      const policy = policyChoice === 'auto' || policyChoice === 'none' ? undefined : deps.policies.get(policyChoice);
      if (policy === undefined && policyChoice !== 'auto' && policyChoice !== 'none') {
        verifyForm(ctx, deps, [{ field: 'policy', message: t('verify.errorPolicy') }]);
        return;
      }
      const envelope = form.files.get('envelope');
      const errors: FieldError[] = [];
      if (envelope === undefined || envelope.data.length === 0) errors.push({ field: 'envelope', message: t('verify.errorNoEnvelope') });
      else if (envelope.data.length > MAX_JWS_BYTES)
        errors.push({ field: 'envelope', message: t('verify.errorEnvelopeTooLarge', { mib: MAX_JWS_BYTES / 1048576 }) });
      const content = form.files.get('content');
      if (content !== undefined && content.data.length > MAX_CONTENT_BYTES)
        errors.push({ field: 'content', message: t('verify.errorContentTooLarge', { mib: MAX_CONTENT_BYTES / 1048576 }) });
      if (errors.length > 0) {
        verifyForm(ctx, deps, errors, policyChoice);
        return;
      }
      const { anchors, intermediates } = deps.trust();
      const report = await verifyEnvelope({
        envelope: envelope!.data,
        content: content === undefined || content.data.length === 0 ? undefined : content.data,
        anchors,
        intermediates,
        revocation: deps.revocation,
        policy,
        policies: policyChoice === 'auto' ? deps.policies : undefined,
        time: now(),
        signaturesOnThreadPool: true,
      });
      sendPage(ctx, { title: t('report.title'), area: 'verify', body: renderReport(ctx, report, envelope!.filename ?? '') });
    },
  };
}

function refuse(ctx: PageContext, status: number, message: string): void {
  sendPage(ctx, {
    title: ctx.t('form.refusedTitle'),
    area: 'verify',
    status,
    body: html`<p class="lead" data-refusal="${status}">${message}</p>
      <p><a class="link" href="/verify">${ctx.t('verify.again')}</a></p>`,
  });
}

const INDICATION_KEY: Record<Indication, MessageKey> = {
  TOTAL_PASSED: 'report.TOTAL_PASSED',
  TOTAL_FAILED: 'report.TOTAL_FAILED',
  INDETERMINATE: 'report.INDETERMINATE',
};

const RESULT_KEY: Record<'PASSED' | 'FAILED' | 'INDETERMINATE', MessageKey> = {
  PASSED: 'report.checkPassed',
  FAILED: 'report.checkFailed',
  INDETERMINATE: 'report.checkIndeterminate',
};

function indicationClass(i: Indication | 'PASSED' | 'FAILED'): string {
  return i === 'TOTAL_PASSED' || i === 'PASSED' ? 'passed' : i === 'TOTAL_FAILED' || i === 'FAILED' ? 'failed' : 'indeterminate';
}

/** The validation report as people read it: the verdict first, then each signature, then every check. */
export function renderReport(ctx: PageContext, report: ValidationReport, filename: string): Html {
  const { t, lang } = ctx;
  const valid = report.signatures.filter((s) => s.indication === 'TOTAL_PASSED').length;
  const total = report.signatures.length;
  return html`<div
      class="verdict verdict-${indicationClass(report.indication)}"
      id="verdict"
      data-indication="${report.indication}"
      ${report.subIndication === undefined ? '' : html` data-sub-indication="${report.subIndication}"`}
    >
      <p class="verdict-title">${t(INDICATION_KEY[report.indication])}</p>
      <p class="verdict-body">
        ${t('report.count', { valid, total })}${report.subIndication === undefined ? '' : html` ${t('report.subIndication', { sub: report.subIndication })}`}
      </p>
    </div>
    <h2>${t('report.about')}</h2>
    ${summaryList([
      [t('report.file'), filename],
      [t('report.format'), report.format === null ? t('report.formatUnknown') : report.format.toUpperCase()],
      [t('report.policy'), report.policy === null ? t('report.policyNone') : `${report.policy.id} v${report.policy.version}`],
      [t('report.documentType'), report.document.type],
      [t('report.applicant'), report.document.applicant],
      [t('report.applicationId'), report.document.applicationId],
      [t('report.documentSha256'), report.document.sha256 === null ? null : html`<code class="hash">${report.document.sha256}</code>`],
      [t('report.validationTime'), formatTime(lang, report.validationTime)],
    ])}
    ${
      report.checks.length > 0
        ? html`<h2>${t('report.envelopeChecks')}</h2>
            ${checkList(t, report.checks)}`
        : ''
    }
    ${report.signatures.map((s) => signatureSection(ctx, s))}
    <p><a class="button button-secondary" href="/verify">${t('verify.again')}</a></p>`;
}

function signatureSection(ctx: PageContext, s: SignatureReport): Html {
  const { t, lang } = ctx;
  const heading = s.role === 'signer' ? t('report.signer') : t('report.countersigner', { n: s.index });
  const signer = s.signer;
  return html`<section
    class="signature"
    aria-labelledby="signature-${s.index}"
    data-signature="${s.index}"
    data-indication="${s.indication}"
  >
    <h2 id="signature-${s.index}">
      ${heading}: <span class="tag tag-${indicationClass(s.indication)}">${t(INDICATION_KEY[s.indication])}</span>
    </h2>
    ${summaryList([
      [t('report.who'), signer?.subject ?? t('report.noSigner')],
      [t('report.organizationIdentifier'), signer?.organizationIdentifier],
      [
        t('report.officer'),
        signer?.officer === null || signer?.officer === undefined ? null : `${signer.officer.role}, ${signer.officer.jurisdiction}`,
      ],
      [t('report.when'), formatTime(lang, s.signingTime)],
      [t('report.decision'), s.decision === undefined || s.decision === null ? null : t(`decision.${s.decision}` as MessageKey)],
      [t('report.reason'), s.reason ?? null],
      [t('report.algorithm'), s.algorithm],
      [t('report.serial'), signer === null ? null : html`<code class="hash">${signer.serialNumber}</code>`],
      [t('report.issuer'), signer?.issuer],
      [t('report.validity'), signer === null ? null : `${formatTime(lang, signer.notBefore)} – ${formatTime(lang, signer.notAfter)}`],
    ])}
    <h3>${t('report.checks')}</h3>
    ${checkList(t, s.checks)}
  </section>`;
}

function checkList(t: Translate, checks: ValidationReport['checks']): Html {
  return html`<ul class="checks">
    ${checks.map(
      (c) =>
        html`<li class="check check-${indicationClass(c.result)}" data-check="${c.id}" data-result="${c.result}">
          <span class="tag tag-${indicationClass(c.result)}">${t(RESULT_KEY[c.result])}</span> ${c.message}
        </li>`,
    )}
  </ul>`;
}
