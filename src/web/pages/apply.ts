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

/** What every input of one form is rendered with. */
interface Render {
  ctx: PageContext;
  root: Schema;
  errors: FieldError[];
  /** The form's action, to which the add/remove buttons append the fragment of the rows they change. */
  action: string;
}

/**
 * Arrays of objects are rows (GOV.UK "add another"): each row's inputs are named
 * `<array>.<index>.<property>`, and a hidden `rows:<array>` carries how many rows the page showed,
 * so a re-render keeps every row (radios left unticked send nothing). No schema allows more
 * rows than ROW_CAP, whatever its maxItems.
 */
const ROW_CAP = 50;
const ROWS = 'rows:';
const ADD = 'add:';
const REMOVE = 'remove:';
/** The name of the form's submit buttons; a colon keeps it apart from every property path. */
const BUTTON = 'form:button';

const isIndex = (part: string): boolean => /^(0|[1-9][0-9]{0,5})$/.test(part);

function resolve(root: Schema, schema: Schema): Schema {
  const ref = schema['$ref'];
  if (typeof ref === 'string' && ref.startsWith('#/$defs/')) {
    const defs = (root['$defs'] ?? {}) as Record<string, Schema>;
    return resolve(root, defs[ref.slice('#/$defs/'.length)] ?? {});
  }
  return schema;
}

const propertiesOf = (schema: Schema): Record<string, Schema> => (schema['properties'] ?? {}) as Record<string, Schema>;

/** The item schema of an array of objects, else undefined. */
function rowItems(root: Schema, schema: Schema): Schema | undefined {
  if (schema['type'] !== 'array') return undefined;
  const items = resolve(root, (schema['items'] ?? {}) as Schema);
  return items['type'] === 'object' ? items : undefined;
}

/** How many rows an array of objects may have and must have. */
function rowBounds(schema: Schema): { min: number; max: number } {
  const max = Math.min(typeof schema['maxItems'] === 'number' ? schema['maxItems'] : ROW_CAP, ROW_CAP);
  const min = Math.min(typeof schema['minItems'] === 'number' ? schema['minItems'] : 0, max);
  return { min, max };
}

/** The schema at a dotted path, row indices included (`changes.1.item`); {} when there is none. */
function schemaAt(root: Schema, path: string): Schema {
  let s: Schema = root;
  for (const part of path.split('.')) {
    if (isIndex(part) && s['type'] === 'array') s = resolve(root, (s['items'] ?? {}) as Schema);
    else s = Object.hasOwn(propertiesOf(s), part) ? resolve(root, propertiesOf(s)[part]!) : {};
  }
  return s;
}

/** The path the catalogues name a field by: row indices dropped (`changes.1.item` → `changes.item`). */
const catalogPath = (path: string): string =>
  path
    .split('.')
    .filter((p) => !isIndex(p))
    .join('.');

/** The label of a field: the catalogue's, else the schema's title, else the property's name. */
function label(ctx: PageContext, path: string, schema: Schema): string {
  const key = `field.${catalogPath(path)}` as MessageKey;
  if (ctx.t.has(key)) return ctx.t(key);
  if (typeof schema['title'] === 'string') return schema['title'];
  const last = catalogPath(path).split('.').pop()!;
  return last.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());
}

function hint(ctx: PageContext, path: string, schema: Schema): string | undefined {
  const key = `hint.${catalogPath(path)}` as MessageKey;
  if (ctx.t.has(key)) return ctx.t(key);
  return typeof schema['description'] === 'string' ? schema['description'] : undefined;
}

/** The legend of one row: "Changes: item 2". */
function rowLabel(ctx: PageContext, root: Schema, arrayPath: string, index: number): string {
  return ctx.t('apply.row', { label: label(ctx, arrayPath, schemaAt(root, arrayPath)), n: index + 1 });
}

/** A field's label for the error summary and the answers: inside a row, the row is named too. */
function fullLabel(ctx: PageContext, root: Schema, path: string): string {
  const parts = path.split('.');
  const at = parts.findLastIndex(isIndex);
  const own = label(ctx, path, schemaAt(root, path));
  if (at < 0) return own;
  const row = rowLabel(ctx, root, parts.slice(0, at).join('.'), Number(parts[at]));
  return at === parts.length - 1 ? row : ctx.t('apply.inRow', { field: own, row });
}

/** The label of an enum value: the catalogue's `option.<value>`, else the value itself. */
function optionLabel(ctx: PageContext, value: string): string {
  const key = `option.${value}` as MessageKey;
  return ctx.t.has(key) ? ctx.t(key) : value;
}

const fieldId = (path: string): string => `f-${path.replace(/\./g, '-')}`;

/** The inputs of an object schema, in schema order; the core fields are filled in by the service. */
function inputs(r: Render, schema: Schema, prefix: string, values: Record<string, unknown>): Html[] {
  const props = propertiesOf(schema);
  const required = (schema['required'] ?? []) as string[];
  const out: Html[] = [];
  for (const [name, raw] of Object.entries(props)) {
    if (prefix === '' && (CORE_DOCUMENT_FIELDS as readonly string[]).includes(name)) continue;
    const path = prefix === '' ? name : `${prefix}.${name}`;
    const s = resolve(r.root, raw);
    out.push(input(r, { path, schema: s, required: required.includes(name) }, Object.hasOwn(values, name) ? values[name] : undefined));
  }
  return out;
}

/** An array of objects: one fieldset per row, with "remove" per row and "add another" below. */
function rowsInput(r: Render, f: Field, items: Schema, value: unknown, text: string, h: string | undefined): Html {
  const { ctx, errors } = r;
  const { t } = ctx;
  const id = fieldId(f.path);
  const invalid = hasError(errors, id);
  const describedBy = [h === undefined ? '' : `${id}-hint`, invalid ? `${id}-error` : ''].filter((x) => x !== '').join(' ');
  const { min, max } = rowBounds(f.schema);
  const given = Array.isArray(value) ? (value as unknown[]) : [];
  const shown = Math.min(Math.max(given.length, min, 1), max);
  const removable = shown > Math.max(min, 1);
  const rows = Array.from({ length: shown }, (_, i) => {
    const row = given[i];
    const rowPath = `${f.path}.${i}`;
    const legend = rowLabel(ctx, r.root, f.path, i);
    return html`<fieldset class="fieldset fieldset-group" id="${fieldId(rowPath)}" data-row="${i}">
      <legend class="fieldset-legend">${legend}</legend>
      ${fieldError(t, errors, fieldId(rowPath))}
      ${inputs(r, items, rowPath, row !== null && typeof row === 'object' && !Array.isArray(row) ? (row as Record<string, unknown>) : {})}
      ${
        removable
          ? html`<button
              class="button button-secondary"
              type="submit"
              name="${BUTTON}"
              value="${REMOVE}${rowPath}"
              formaction="${r.action}#${id}"
            >
              ${t('apply.remove')}<span class="visually-hidden"> ${legend}</span>
            </button>`
          : ''
      }
    </fieldset>`;
  });
  return html`<div class="form-group${invalid ? ' form-group-error' : ''}" data-rows="${f.path}">
    <fieldset class="fieldset" id="${id}" ${describedBy === '' ? '' : html` aria-describedby="${describedBy}"`}>
      <legend class="label">${text}</legend>
      ${h === undefined ? '' : html`<p class="hint" id="${id}-hint">${h}</p>`}${fieldError(t, errors, id)}
      <input type="hidden" name="${ROWS}${f.path}" value="${shown}" />
      ${rows}
      ${
        shown < max
          ? html`<button
              class="button button-secondary"
              type="submit"
              name="${BUTTON}"
              value="${ADD}${f.path}"
              formaction="${r.action}#${fieldId(`${f.path}.${shown}`)}"
            >
              ${t('apply.addAnother')}<span class="visually-hidden"> ${text}</span>
            </button>`
          : html`<p class="hint">${t('apply.rowsMax', { max })}</p>`
      }
    </fieldset>
  </div>`;
}

function input(r: Render, f: Field, value: unknown): Html {
  const { ctx, root, errors } = r;
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
      ${inputs(r, f.schema, f.path, value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {})}
    </fieldset>`;
  }
  if (type === 'boolean') {
    // The typed document holds booleans, a re-rendered form the posted strings.
    const v = value === true || value === 'true' ? 'true' : value === false || value === 'false' ? 'false' : '';
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
  const items = rowItems(root, f.schema);
  if (items !== undefined) return rowsInput(r, f, items, value, text, h);
  if (type === 'array') {
    const itemSchema = resolve(root, (f.schema['items'] ?? {}) as Schema);
    const options = (itemSchema['enum'] ?? []) as string[];
    const chosen = Array.isArray(value) ? (value as string[]) : [];
    return group(
      html`<div class="checkboxes">
        ${options.map(
          (o, i) =>
            html`<div class="checkbox">
              <input type="checkbox" id="${id}-${i}" name="${f.path}" value="${o}" ${chosen.includes(o) ? html` checked` : ''} /><label
                for="${id}-${i}"
                >${optionLabel(ctx, o)}</label
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
      html`<select class="select" id="${id}" name="${f.path}" ${describedBy === '' ? '' : html` aria-describedby="${describedBy}"`}>
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

/** How many rows of an array of objects the posted page showed (within the array's bounds). */
function rowCount(all: Map<string, string[]>, path: string, max: number): number {
  const n = Number(all.get(`${ROWS}${path}`)?.[0]);
  return Number.isInteger(n) && n > 0 ? Math.min(n, max) : 0;
}

/** Whether anything was typed or chosen in a row. */
function rowFilled(all: Map<string, string[]>, rowPath: string): boolean {
  for (const [name, values] of all) if (name.startsWith(`${rowPath}.`) && values.some((v) => v.trim() !== '')) return true;
  return false;
}

/**
 * What was posted, as typed (strings, untyped), shaped like the form: to show the page again with
 * every answer kept, including ones that are not valid yet.
 */
function postedValues(root: Schema, schema: Schema, prefix: string, all: Map<string, string[]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(propertiesOf(schema))) {
    if (prefix === '' && (CORE_DOCUMENT_FIELDS as readonly string[]).includes(name)) continue;
    const path = prefix === '' ? name : `${prefix}.${name}`;
    const s = resolve(root, raw);
    const items = rowItems(root, s);
    if (s['type'] === 'object') out[name] = postedValues(root, s, path, all);
    else if (items !== undefined)
      out[name] = Array.from({ length: rowCount(all, path, rowBounds(s).max) }, (_, i) => postedValues(root, items, `${path}.${i}`, all));
    else if (s['type'] === 'array') out[name] = all.get(path) ?? [];
    else if (all.has(path)) out[name] = all.get(path)![0];
  }
  return out;
}

/**
 * Applies an "add another" (`add:<array>`) or "remove" (`remove:<array>.<index>`) button to the
 * posted values, within the array's bounds; a button naming no array of objects changes nothing.
 */
function editRows(root: Schema, values: Record<string, unknown>, action: string): void {
  const add = action.startsWith(ADD);
  const path = action.slice(add ? ADD.length : REMOVE.length);
  const parts = path.split('.');
  const index = add ? -1 : Number(parts.pop());
  const arrayPath = parts.join('.');
  if (!add && !isIndex(String(index))) return;
  const schema = schemaAt(root, arrayPath);
  if (arrayPath === '' || rowItems(root, schema) === undefined) return;
  let node: unknown = values;
  for (const part of parts) {
    if (Array.isArray(node) && isIndex(part)) node = node[Number(part)];
    else if (node !== null && typeof node === 'object' && !Array.isArray(node) && Object.hasOwn(node, part))
      node = (node as Record<string, unknown>)[part];
    else return;
  }
  if (!Array.isArray(node)) return;
  const { min, max } = rowBounds(schema);
  // The rows the page showed: empty ones past the posted count included.
  while (node.length < Math.min(Math.max(min, 1), max)) node.push({});
  if (add && node.length < max) node.push({});
  if (!add && node.length > Math.max(min, 1) && index < node.length) node.splice(index, 1);
}

type Problem = { path: string; kind: 'required' | 'number' };

/**
 * The document from the posted answers: typed by the schema; empty optional answers left out.
 * A row left wholly empty is left out unless the array needs it to reach minItems; `rowMaps`
 * records, per array (by its form path), which form row each document element came from.
 */
function collect(
  root: Schema,
  schema: Schema,
  prefix: string,
  all: Map<string, string[]>,
  errors: Problem[],
  rowMaps: Map<string, number[]>,
): Record<string, unknown> {
  const props = propertiesOf(schema);
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
      out[name] = collect(root, s, path, all, errors, rowMaps);
      continue;
    }
    const items = rowItems(root, s);
    if (items !== undefined) {
      const { min, max } = rowBounds(s);
      const count = rowCount(all, path, max);
      const filled = Array.from({ length: count }, (_, i) => rowFilled(all, `${path}.${i}`));
      let missing = min - filled.filter(Boolean).length;
      const rows: unknown[] = [];
      const map: number[] = [];
      for (let i = 0; i < count; i++) {
        if (!filled[i]) {
          if (missing <= 0) continue;
          missing--;
        }
        rows.push(collect(root, items, `${path}.${i}`, all, errors, rowMaps));
        map.push(i);
      }
      rowMaps.set(path, map);
      if (rows.length > 0 || need) out[name] = rows;
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

/** A document path (`changes.1.newValue`) as the form names it: element indices become row indices. */
function formPath(root: Schema, path: string, rowMaps: Map<string, number[]>): string {
  const out: string[] = [];
  let s: Schema = root;
  for (const part of path.split('.')) {
    if (isIndex(part) && s['type'] === 'array') {
      out.push(String(rowMaps.get(out.join('.'))?.[Number(part)] ?? part));
      s = resolve(root, (s['items'] ?? {}) as Schema);
    } else {
      out.push(part);
      s = Object.hasOwn(propertiesOf(s), part) ? resolve(root, propertiesOf(s)[part]!) : {};
    }
  }
  return out.join('.');
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
  const action = `/apply/form?policy=${encodeURIComponent(policy.id)}`;
  sendPage(ctx, {
    title: policyTitle(ctx, policy),
    area: 'apply',
    errors: errors.length > 0 ? errors : undefined,
    status: errors.length > 0 ? 400 : 200,
    body: html`<p class="lead">${t('apply.formLead')}</p>
      <form method="post" action="${action}" novalidate>
        ${csrfField(ctx)}
        ${
          hasRows(root, root)
            ? // Enter in a text box presses the form's first submit button: let that be "continue", not a "remove".
              html`<button class="visually-hidden" type="submit" name="${BUTTON}" value="continue" tabindex="-1" aria-hidden="true">
                ${t('apply.continue')}
              </button>`
            : ''
        }
        ${inputs({ ctx, root, errors, action }, root, '', values)}
        <button class="button" type="submit" name="${BUTTON}" value="continue">${t('apply.continue')}</button>
      </form>`,
  });
}

/** Whether a form has an array of objects (so add/remove buttons) anywhere. */
function hasRows(root: Schema, schema: Schema): boolean {
  return Object.values(propertiesOf(schema)).some((raw) => {
    const s = resolve(root, raw);
    return rowItems(root, s) !== undefined || (s['type'] === 'object' && hasRows(root, s));
  });
}

/** A form of up to ROW_CAP rows of long answers, in UTF-8 and percent-encoded, fits. */
const FORM_LIMIT = 512 * 1024;

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
        form = parseUrlEncoded(await readBody(req, FORM_LIMIT));
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
      const all = form.all ?? new Map<string, string[]>();
      const button = form.fields.get(BUTTON) ?? 'continue';
      if (button === EDIT) return formPage(ctx, policy, postedValues(root, root, '', all), []);
      if (button.startsWith(ADD) || button.startsWith(REMOVE)) {
        // "Add another" or "remove": the same page again, every answer kept, nothing checked yet.
        const values = postedValues(root, root, '', all);
        editRows(root, values, button);
        return formPage(ctx, policy, values, []);
      }
      const problems: Problem[] = [];
      const rowMaps = new Map<string, number[]>();
      const answers = collect(root, root, '', all, problems, rowMaps);
      const errors: FieldError[] = problems.map((p) => ({
        field: fieldId(p.path),
        message: t(p.kind === 'required' ? 'apply.errorRequired' : 'apply.errorNumber', { label: fullLabel(ctx, root, p.path) }),
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
                : formPath(
                    root,
                    `${m[1]!.slice(1).replace(/\//g, '.')}${requiredProp === null ? '' : `.${requiredProp[1]}`}`.replace(/^\./, ''),
                    rowMaps,
                  );
            const known = path !== '' && !(CORE_DOCUMENT_FIELDS as readonly string[]).includes(path);
            errors.push({
              field: known ? fieldId(path) : 'main',
              message: known ? t('apply.errorInvalid', { label: fullLabel(ctx, root, path), reason: m![2]! }) : e,
            });
          }
        }
      }
      if (errors.length > 0) return formPage(ctx, policy, postedValues(root, root, '', all), errors);
      checkAnswersPage(ctx, policy, document, all);
    },
  };
}

/** The answers as label/value rows: each element of an array of objects as its own rows. */
function flatten(root: Schema, prefix: string, value: unknown, out: Array<[string, unknown]>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(root, prefix === '' ? k : `${prefix}.${k}`, v, out);
  } else if (Array.isArray(value) && rowItems(root, schemaAt(root, prefix)) !== undefined) {
    value.forEach((v, i) => flatten(root, `${prefix}.${i}`, v, out));
  } else out.push([prefix, value]);
}

/** An answer as people read it: enum values by their labels, booleans as yes/no. */
function shownValue(ctx: PageContext, schema: Schema, value: unknown): string {
  if (typeof value === 'boolean') return ctx.t(value ? 'apply.yes' : 'apply.no');
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? optionLabel(ctx, v) : String(v))).join(', ');
  if (typeof value === 'string' && Array.isArray(schema['enum'])) return optionLabel(ctx, value);
  return String(value);
}

/** "Change your answers" on the check page: the answers as posted go back to the form, which shows them again. */
const EDIT = 'edit';

function checkAnswersPage(ctx: PageContext, policy: LoadedPolicy, document: Record<string, unknown>, posted: Map<string, string[]>): void {
  const { t } = ctx;
  const bytes = JSON.stringify(document);
  const rows: Array<[string, unknown]> = [];
  const root = schemaOf(policy);
  flatten(root, '', document, rows);
  const labelOf = (path: string): string =>
    (CORE_DOCUMENT_FIELDS as readonly string[]).includes(path) ? t(`core.${path}` as MessageKey) : fullLabel(ctx, root, path);
  sendPage(ctx, {
    title: t('apply.checkTitle'),
    area: 'apply',
    scripts: ['sign.js'],
    body: html`<p class="lead">${t('apply.checkLead')}</p>
      ${summaryList(rows.map(([k, v]) => [labelOf(k), shownValue(ctx, schemaAt(root, k), v)]))}
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
      <form method="post" action="/apply/form?policy=${encodeURIComponent(policy.id)}" novalidate>
        ${csrfField(ctx)}
        ${[...posted]
          .filter(([name]) => name !== 'csrf' && name !== BUTTON)
          .map(([name, values]) => values.map((value) => html`<input type="hidden" name="${name}" value="${value}" />`))}
        <button class="button button-secondary" type="submit" name="${BUTTON}" value="${EDIT}">${t('apply.change')}</button>
      </form>`,
  });
}

export { errorSummary };
