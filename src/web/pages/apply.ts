import type { Request, Response } from 'express';
import type { Principal } from '../../auth/principal.js';
import { randomBytes, sha256Hex } from '../../crypto/digest.js';
import { CORE_DOCUMENT_FIELDS, type LoadedPolicy, type PolicySet } from '../../policy/policy.js';
import { parseUrlEncoded, readBody, WebFormError } from '../forms.js';
import { html, type Html } from '../html.js';
import {
  csrfField,
  errorSummary,
  fieldError,
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
 * `/apply`: an enterprise picks a transaction type, fills in the form generated from the
 * policy's JSON Schema, checks its answers, then signs the document in the browser
 * (/assets/sign.js, JWS with the key opened at sign-in) and submits it to the API. The form
 * works without JavaScript up to the check-answers page; signing needs the key, so JavaScript.
 * The server validates the answers against the same schema the submission is checked with.
 */

export interface ApplyDeps {
  policies: PolicySet;
  session(ctx: PageContext): Promise<Principal | undefined>;
}

type Schema = Record<string, unknown>;

interface Field {
  path: string;
  schema: Schema;
  required: boolean;
}

function resolve(root: Schema, schema: Schema): Schema {
  const ref = schema['$ref'];
  if (typeof ref === 'string' && ref.startsWith('#/$defs/')) {
    const defs = (root['$defs'] ?? {}) as Record<string, Schema>;
    return resolve(root, defs[ref.slice('#/$defs/'.length)] ?? {});
  }
  return schema;
}

/** The label of a field: the catalogue's, else the schema's title, else the property's name. */
function label(ctx: PageContext, path: string, schema: Schema): string {
  const key = `field.${path}` as MessageKey;
  if (ctx.t.has(key)) return ctx.t(key);
  if (typeof schema['title'] === 'string') return schema['title'];
  const last = path.split('.').pop()!;
  return last.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());
}

function hint(ctx: PageContext, path: string, schema: Schema): string | undefined {
  const key = `hint.${path}` as MessageKey;
  if (ctx.t.has(key)) return ctx.t(key);
  return typeof schema['description'] === 'string' ? schema['description'] : undefined;
}

/** The label of an enum value: the catalogue's `option.<value>`, else the value itself. */
function optionLabel(ctx: PageContext, value: string): string {
  const key = `option.${value}` as MessageKey;
  return ctx.t.has(key) ? ctx.t(key) : value;
}

const fieldId = (path: string): string => `f-${path.replace(/\./g, '-')}`;

/** The inputs of an object schema, in schema order; the core fields are filled in by the service. */
function inputs(
  ctx: PageContext,
  root: Schema,
  schema: Schema,
  prefix: string,
  values: Record<string, unknown>,
  errors: FieldError[],
): Html[] {
  const props = (schema['properties'] ?? {}) as Record<string, Schema>;
  const required = (schema['required'] ?? []) as string[];
  const out: Html[] = [];
  for (const [name, raw] of Object.entries(props)) {
    if (prefix === '' && (CORE_DOCUMENT_FIELDS as readonly string[]).includes(name)) continue;
    const path = prefix === '' ? name : `${prefix}.${name}`;
    const s = resolve(root, raw);
    out.push(input(ctx, root, { path, schema: s, required: required.includes(name) }, (values[name] ?? undefined) as unknown, errors));
  }
  return out;
}

function input(ctx: PageContext, root: Schema, f: Field, value: unknown, errors: FieldError[]): Html {
  const { t } = ctx;
  const id = fieldId(f.path);
  const text = label(ctx, f.path, f.schema) + (f.required ? '' : ` ${t('apply.optional')}`);
  const h = hint(ctx, f.path, f.schema);
  const invalid = hasError(errors, id);
  const describedBy = [h === undefined ? '' : `${id}-hint`, invalid ? `${id}-error` : ''].filter((x) => x !== '').join(' ');
  const group = (inner: Html, legend = false): Html =>
    legend
      ? html`<div class="form-group${invalid ? ' form-group-error' : ''}">
          <fieldset class="fieldset" id="${id}" ${describedBy === '' ? '' : html` aria-describedby="${describedBy}"`}>
            <legend class="label">${text}</legend>
            ${h === undefined ? '' : html`<p class="hint" id="${id}-hint">${h}</p>`}${fieldError(t, errors, id)}${inner}
          </fieldset>
        </div>`
      : html`<div class="form-group${invalid ? ' form-group-error' : ''}">
          <label class="label" for="${id}">${text}</label
          >${h === undefined ? '' : html`<p class="hint" id="${id}-hint">${h}</p>`}${fieldError(t, errors, id)}${inner}
        </div>`;
  const type = f.schema['type'];
  if (type === 'object') {
    return html`<fieldset class="fieldset fieldset-group">
      <legend class="fieldset-legend">${text}</legend>
      ${inputs(ctx, root, f.schema, f.path, (value ?? {}) as Record<string, unknown>, errors)}
    </fieldset>`;
  }
  if (type === 'boolean') {
    const v = value === true ? 'true' : value === false ? 'false' : '';
    return group(
      html`<div class="radios">
        ${['true', 'false'].map(
          (o) =>
            html`<div class="radio">
              <input type="radio" id="${id}-${o}" name="${f.path}" value="${o}" ${v === o ? html` checked` : ''} /><label for="${id}-${o}"
                >${t(o === 'true' ? 'apply.yes' : 'apply.no')}</label
              >
            </div>`,
        )}
      </div>`,
      true,
    );
  }
  if (type === 'array') {
    const items = resolve(root, (f.schema['items'] ?? {}) as Schema);
    const options = (items['enum'] ?? []) as string[];
    const chosen = Array.isArray(value) ? (value as string[]) : [];
    return group(
      html`<div class="checkboxes">
        ${options.map(
          (o, i) =>
            html`<div class="checkbox">
              <input type="checkbox" id="${id}-${i}" name="${f.path}" value="${o}" ${chosen.includes(o) ? html` checked` : ''} /><label
                for="${id}-${i}"
                >${ctx.t.has(`option.${o}` as MessageKey) ? ctx.t(`option.${o}` as MessageKey) : o}</label
              >
            </div>`,
        )}
      </div>`,
      true,
    );
  }
  if (Array.isArray(f.schema['enum'])) {
    const options = f.schema['enum'] as string[];
    return group(
      html`<select class="select" id="${id}" name="${f.path}">
        <option value=""></option>
        ${options.map((o) => html`<option value="${o}" ${value === o ? html` selected` : ''}>${optionLabel(ctx, o)}</option>`)}
      </select>`,
    );
  }
  const numeric = type === 'integer' || type === 'number';
  const max = typeof f.schema['maxLength'] === 'number' ? f.schema['maxLength'] : undefined;
  const long = max !== undefined && max > 200;
  const shown = value === undefined || value === null ? '' : String(value);
  return group(
    long
      ? html`<textarea
          class="textarea${invalid ? ' input-error' : ''}"
          id="${id}"
          name="${f.path}"
          rows="3"
          ${describedBy === '' ? '' : html` aria-describedby="${describedBy}"`}
        >
${shown}</textarea>`
      : html`<input
          class="input${numeric ? ' input-number' : ''}${invalid ? ' input-error' : ''}"
          id="${id}"
          name="${f.path}"
          type="text"
          ${numeric ? html` inputmode="${type === 'integer' ? 'numeric' : 'decimal'}"` : ''}
          value="${shown}"
          ${describedBy === '' ? '' : html` aria-describedby="${describedBy}"`}
        />`,
  );
}

/** The document from the posted answers: typed by the schema; empty optional answers left out. */
function collect(
  root: Schema,
  schema: Schema,
  prefix: string,
  all: Map<string, string[]>,
  errors: Array<{ path: string; kind: 'required' | 'number' }>,
): Record<string, unknown> {
  const props = (schema['properties'] ?? {}) as Record<string, Schema>;
  const required = (schema['required'] ?? []) as string[];
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(props)) {
    if (prefix === '' && (CORE_DOCUMENT_FIELDS as readonly string[]).includes(name)) continue;
    const path = prefix === '' ? name : `${prefix}.${name}`;
    const s = resolve(root, raw);
    const values = all.get(path) ?? [];
    const first = (values[0] ?? '').trim();
    const need = required.includes(name);
    if (s['type'] === 'object') {
      out[name] = collect(root, s, path, all, errors);
      continue;
    }
    if (s['type'] === 'array') {
      if (values.length > 0) out[name] = [...new Set(values)];
      else if (need) errors.push({ path, kind: 'required' });
      continue;
    }
    if (first === '') {
      if (need) errors.push({ path, kind: 'required' });
      continue;
    }
    if (s['type'] === 'boolean') out[name] = first === 'true';
    else if (s['type'] === 'integer' || s['type'] === 'number') {
      const n = Number(first);
      if (!Number.isFinite(n) || (s['type'] === 'integer' && !Number.isInteger(n))) errors.push({ path, kind: 'number' });
      else out[name] = n;
    } else out[name] = first;
  }
  return out;
}

function schemaOf(policy: LoadedPolicy): Schema {
  return policy.document;
}

function policyTitle(ctx: PageContext, policy: LoadedPolicy): string {
  const key = `policy.${policy.id}` as MessageKey;
  return ctx.t.has(key) ? ctx.t(key) : policy.title;
}

export function applyStartPage(deps: ApplyDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const ctx = pageContext(req, res);
    const { t } = ctx;
    const principal = await deps.session(ctx);
    if (principal === undefined || principal.role !== 'enterprise') {
      res.redirect(303, '/signin');
      return;
    }
    sendPage(ctx, {
      title: t('apply.title'),
      area: 'apply',
      body: html`<form method="get" action="/apply/form" novalidate>
          <div class="form-group">
            <fieldset class="fieldset">
              <legend class="label">${t('apply.pickType')}</legend>
              <div class="radios">
                ${deps.policies
                  .list()
                  .map(
                    (p, i) =>
                      html`<div class="radio">
                        <input type="radio" id="policy-${i}" name="policy" value="${p.id}" ${i === 0 ? html` checked` : ''} /><label
                          for="policy-${i}"
                          >${policyTitle(ctx, p)}</label
                        >
                      </div>`,
                  )}
              </div>
            </fieldset>
          </div>
          <button class="button" type="submit">${t('apply.continue')}</button>
        </form>
        <p><a class="link" href="/applications">${t('applications.title')}</a></p>`,
    });
  };
}

function formPage(ctx: PageContext, policy: LoadedPolicy, values: Record<string, unknown>, errors: FieldError[]): void {
  const { t } = ctx;
  const root = schemaOf(policy);
  sendPage(ctx, {
    title: policyTitle(ctx, policy),
    area: 'apply',
    errors: errors.length > 0 ? errors : undefined,
    status: errors.length > 0 ? 400 : 200,
    body: html`<p class="lead">${t('apply.formLead')}</p>
      <form method="post" action="/apply/form?policy=${encodeURIComponent(policy.id)}" novalidate>
        ${csrfField(ctx)} ${inputs(ctx, root, root, '', values, errors)}
        <button class="button" type="submit">${t('apply.continue')}</button>
      </form>`,
  });
}

export function applyFormPage(deps: ApplyDeps) {
  const policyOf = (req: Request): LoadedPolicy | undefined =>
    typeof req.query['policy'] === 'string' ? deps.policies.get(req.query['policy']) : undefined;
  return {
    get: async (req: Request, res: Response): Promise<void> => {
      const ctx = pageContext(req, res);
      const principal = await deps.session(ctx);
      if (principal === undefined || principal.role !== 'enterprise') return void res.redirect(303, '/signin');
      const policy = policyOf(req);
      if (policy === undefined) return void res.redirect(303, '/apply');
      formPage(ctx, policy, {}, []);
    },
    post: async (req: Request, res: Response): Promise<void> => {
      const ctx = pageContext(req, res);
      const { t } = ctx;
      let form;
      try {
        form = parseUrlEncoded(await readBody(req, 64 * 1024));
      } catch (error) {
        if (!(error instanceof WebFormError)) throw error;
        return void sendPage(ctx, { title: t('form.refusedTitle'), status: 400, body: html`<p>${t('form.malformed')}</p>` });
      }
      if (!csrfValid(req, ctx.cookies, form.fields.get('csrf')))
        return void sendPage(ctx, { title: t('form.refusedTitle'), status: 403, body: html`<p data-refusal="403">${t('form.csrf')}</p>` });
      const principal = await deps.session(ctx);
      if (principal === undefined || principal.role !== 'enterprise' || principal.uscc === undefined)
        return void res.redirect(303, '/signin');
      const policy = policyOf(req);
      if (policy === undefined) return void res.redirect(303, '/apply');
      const root = schemaOf(policy);
      const problems: Array<{ path: string; kind: 'required' | 'number' }> = [];
      const answers = collect(root, root, '', form.all ?? new Map(), problems);
      const fieldLabel = (path: string): string => {
        let s: Schema = root;
        for (const part of path.split('.')) s = resolve(root, ((s['properties'] ?? {}) as Record<string, Schema>)[part] ?? {});
        return label(ctx, path, s);
      };
      const errors: FieldError[] = problems.map((p) => ({
        field: fieldId(p.path),
        message: t(p.kind === 'required' ? 'apply.errorRequired' : 'apply.errorNumber', { label: fieldLabel(p.path) }),
      }));
      const document = {
        type: policy.id,
        applicant: principal.uscc,
        applicationId: `WEB-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(6).toString('hex').toUpperCase()}`,
        createdAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        ...answers,
      };
      if (errors.length === 0) {
        const checked = policy.validateDocument(document);
        if (!checked.valid) {
          for (const e of checked.errors) {
            const m = /^(\/\S*) (.*)$/.exec(e);
            const requiredProp = m === null ? null : /must have required property '([^']+)'/.exec(m[2]!);
            const path =
              m === null
                ? ''
                : `${m[1]!.slice(1).replace(/\//g, '.')}${requiredProp === null ? '' : `.${requiredProp[1]}`}`.replace(/^\./, '');
            const known = path !== '' && !(CORE_DOCUMENT_FIELDS as readonly string[]).includes(path);
            errors.push({
              field: known ? fieldId(path) : 'main',
              message: known ? t('apply.errorInvalid', { label: fieldLabel(path), reason: m![2]! }) : e,
            });
          }
        }
      }
      if (errors.length > 0) return formPage(ctx, policy, answers, errors);
      checkAnswersPage(ctx, policy, document);
    },
  };
}

function flatten(prefix: string, value: unknown, out: Array<[string, string]>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(prefix === '' ? k : `${prefix}.${k}`, v, out);
  } else out.push([prefix, Array.isArray(value) ? value.join(', ') : String(value)]);
}

function checkAnswersPage(ctx: PageContext, policy: LoadedPolicy, document: Record<string, unknown>): void {
  const { t } = ctx;
  const bytes = JSON.stringify(document);
  const rows: Array<[string, string]> = [];
  flatten('', document, rows);
  const root = schemaOf(policy);
  const labelOf = (path: string): string => {
    let s: Schema = root;
    for (const part of path.split('.')) s = resolve(root, ((s['properties'] ?? {}) as Record<string, Schema>)[part] ?? {});
    return (CORE_DOCUMENT_FIELDS as readonly string[]).includes(path) ? t(`core.${path}` as MessageKey) : label(ctx, path, s);
  };
  sendPage(ctx, {
    title: t('apply.checkTitle'),
    area: 'apply',
    scripts: ['sign.js'],
    body: html`<p class="lead">${t('apply.checkLead')}</p>
      ${summaryList(rows.map(([k, v]) => [labelOf(k), v]))}
      <h2>${t('apply.whatIsSigned')}</h2>
      <p>${t('apply.whatIsSignedLead')}</p>
      <pre class="json" id="signed-document">${bytes}</pre>
      ${summaryList([[t('report.documentSha256'), html`<code class="hash" id="document-sha256">${sha256Hex(bytes)}</code>`]])}
      <noscript
        ><div class="inset"><p>${t('apply.needsJs')}</p></div></noscript
      >
      <div
        id="sign"
        data-document="${bytes}"
        data-msg-no-key="${t('apply.errorNoKey')}"
        data-msg-rejected="${t('apply.errorRejected')}"
        data-msg-failed="${t('apply.errorFailed')}"
        data-summary-title="${t('error.summaryTitle')}"
      >
        <button class="button js-only" type="button" id="sign-submit" hidden>${t('apply.signSubmit')}</button>
      </div>
      <p><a class="link" href="/apply/form?policy=${encodeURIComponent(policy.id)}">${t('apply.change')}</a></p>`,
  });
}

export { errorSummary };
