import type { Request, Response } from 'express';
import { openCheckpoint, parseCheckpoint, type Checkpoint } from '../../audit/checkpoint.js';
import { AUDIT_KINDS } from '../../audit/entry.js';
import { AuditError } from '../../audit/errors.js';
import { verifyConsistency, verifyInclusion } from '../../audit/merkle.js';
import type { NoteVerifier } from '../../audit/note.js';
import type { ConsistencyProof, EntriesPage, InclusionProof } from '../../audit/reader.js';
import type { StoredCheckpoint } from '../../audit/store.js';
import { sha256Hex } from '../../crypto/digest.js';
import { rawEd25519PublicKey } from '../../crypto/ed25519.js';
import { html, type Html } from '../html.js';
import { fieldError, formatTime, hasError, pageContext, sendPage, summaryList, type FieldError, type PageContext } from '../layout.js';

/**
 * `/log`: the audit log for auditors. The latest checkpoint and its signature (checked here
 * against the log key), entries newest first filtered by kind or subject, a subject's chain
 * (each entry names its subject's previous one), one entry with its inclusion proof (checked
 * again in the browser by /assets/log-proof.js against the key the auditor pinned), and the
 * consistency of an earlier checkpoint the auditor kept with the latest one.
 */

export interface LogPageReads {
  latestCheckpoint(): Promise<StoredCheckpoint>;
  entries(start: number, end: number): Promise<EntriesPage>;
  findEntries(options: { kind?: string; subject?: string; before?: number; limit: number }): Promise<EntriesPage['entries']>;
  inclusionProof(index: number, size: number): Promise<InclusionProof>;
  consistencyProof(from: number, to: number): Promise<ConsistencyProof>;
}

export interface LogPageDeps {
  reader: LogPageReads;
  verifier: NoteVerifier;
  /** The log's C2SP verifier key, `<origin>+<key ID>+<key>`. */
  vkey: string;
}

export const LOG_PAGE_SIZE = 25;
const MAX_CHECKPOINT_TEXT = 4096;

interface ParsedEntry {
  index: number;
  leafHash: string;
  text: string;
  time: string;
  kind: string;
  actor: string;
  subject: string;
  prev: string | null;
  subjectPrev: string | null;
  data: unknown;
}

function parseEntry(e: EntriesPage['entries'][number]): ParsedEntry {
  const v = JSON.parse(e.entry) as Omit<ParsedEntry, 'index' | 'leafHash' | 'text'>;
  return { ...v, index: e.index, leafHash: e.leafHash, text: e.entry };
}

/** SHA-256 of the raw Ed25519 key, in groups of four hex digits (what people compare). */
export function keyFingerprint(verifier: NoteVerifier): string {
  return sha256Hex(rawEd25519PublicKey(verifier.publicKey)).match(/.{4}/g)!.join(' ');
}

async function latest(deps: LogPageDeps): Promise<{ stored: StoredCheckpoint; checkpoint: Checkpoint } | undefined> {
  try {
    const stored = await deps.reader.latestCheckpoint();
    return { stored, checkpoint: openCheckpoint(stored.note, deps.verifier, deps.verifier.name) };
  } catch (error) {
    if (error instanceof AuditError && error.code === 'ERR_AUDIT_NO_CHECKPOINT') return undefined;
    throw error;
  }
}

function keySection(ctx: PageContext, deps: LogPageDeps): Html {
  const { t } = ctx;
  return html`<section
    aria-labelledby="log-key"
    class="log-key"
    data-log-key
    data-vkey="${deps.vkey}"
    data-msg-pinned="${t('log.keyPinned')}"
    data-msg-pin-differs="${t('log.keyPinDiffers')}"
    data-msg-pin="${t('log.pinButton')}"
  >
    <h2 id="log-key">${t('log.keyTitle')}</h2>
    ${summaryList([
      [t('log.keyVkey'), html`<code class="hash" id="vkey">${deps.vkey}</code>`],
      [t('log.keyFingerprint'), html`<code class="hash" id="key-fingerprint">${keyFingerprint(deps.verifier)}</code>`],
    ])}
    <p class="hint">${t('log.keyHint')} <a class="link" href="/log/key">/log/key</a></p>
    <p class="js-only" hidden>
      <button type="button" class="button button-secondary" id="pin-key">${t('log.pinButton')}</button>
      <span id="pin-state" role="status"></span>
    </p>
  </section>`;
}

function kindOption(kind: string, chosen: string | undefined): Html {
  return html`<option value="${kind}" ${kind === chosen ? html` selected` : ''}>${kind}</option>`;
}

export function logIndexPage(deps: LogPageDeps): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    const ctx = pageContext(req, res);
    const { t, lang } = ctx;
    const kindQ = typeof req.query['kind'] === 'string' && req.query['kind'] !== '' ? req.query['kind'] : undefined;
    const kind = kindQ !== undefined && (AUDIT_KINDS as readonly string[]).includes(kindQ) ? kindQ : undefined;
    const subjectQ = typeof req.query['subject'] === 'string' ? req.query['subject'].trim().slice(0, 512) : '';
    const subject = subjectQ === '' ? undefined : subjectQ;
    const beforeQ =
      typeof req.query['before'] === 'string' && /^[0-9]{1,15}$/.test(req.query['before']) ? Number(req.query['before']) : undefined;
    const errors: FieldError[] = [];
    if (kindQ !== undefined && kind === undefined) errors.push({ field: 'kind', message: t('log.errorKind') });
    const head = await latest(deps);
    // One more than a page: tells whether there is a next page, and checks the last chain link.
    const rows = (
      await deps.reader.findEntries({
        ...(kind === undefined ? {} : { kind }),
        ...(subject === undefined ? {} : { subject }),
        ...(beforeQ === undefined ? {} : { before: beforeQ }),
        limit: LOG_PAGE_SIZE + 1,
      })
    ).map(parseEntry);
    const page = rows.slice(0, LOG_PAGE_SIZE);
    const more = rows.length > LOG_PAGE_SIZE;
    const chain = subject !== undefined && kind === undefined;
    const link = (before: number | undefined): string => {
      const p = new URLSearchParams();
      if (kind !== undefined) p.set('kind', kind);
      if (subject !== undefined) p.set('subject', subject);
      if (before !== undefined) p.set('before', String(before));
      const s = p.toString();
      return s === '' ? '/log' : `/log?${s}`;
    };
    const chainCell = (e: ParsedEntry, i: number): Html => {
      const older = rows[i + 1];
      const ok = older === undefined ? e.subjectPrev === null || !more : e.subjectPrev === older.leafHash;
      const unknown = older === undefined && e.subjectPrev !== null;
      return html`<td data-chain="${unknown ? 'continues' : ok ? 'linked' : 'broken'}">
        ${
          unknown
            ? t('log.chainContinues')
            : ok
              ? e.subjectPrev === null
                ? t('log.chainFirst')
                : t('log.chainLinked')
              : t('log.chainBroken')
        }
      </td>`;
    };
    sendPage(ctx, {
      title: t('log.title'),
      area: 'log',
      errors: errors.length > 0 ? errors : undefined,
      scripts: ['log-proof.js'],
      body: html`<p class="lead">${t('log.lead')}</p>
        <section aria-labelledby="checkpoint">
          <h2 id="checkpoint">${t('log.checkpointTitle')}</h2>
          ${
            head === undefined
              ? html`<p>${t('log.noCheckpoint')}</p>`
              : html`<div class="status-result status-good" data-checkpoint-signature="verified" role="status">
                    <p>${t('log.checkpointVerified', { name: deps.verifier.name })}</p>
                  </div>
                  ${summaryList([
                    [t('log.origin'), head.checkpoint.origin],
                    [t('log.treeSize'), head.checkpoint.size],
                    [t('log.root'), html`<code class="hash">${head.checkpoint.root.toString('hex')}</code>`],
                  ])}
                  <details class="details">
                    <summary>${t('log.checkpointNote')}</summary>
                    <pre class="note" id="checkpoint-note">${head.stored.note}</pre>
                  </details>`
          }
        </section>
        ${keySection(ctx, deps)}
        <section aria-labelledby="entries">
          <h2 id="entries">${chain ? t('log.chainTitle', { subject: subject! }) : t('log.entriesTitle')}</h2>
          <form method="get" action="/log" class="filters" novalidate>
            <div class="form-group${hasError(errors, 'kind') ? ' form-group-error' : ''}">
              <label class="label" for="kind">${t('log.kindLabel')}</label>
              ${fieldError(t, errors, 'kind')}
              <select class="select" id="kind" name="kind">
                <option value="">${t('log.kindAll')}</option>
                ${AUDIT_KINDS.map((k) => kindOption(k, kind))}
              </select>
            </div>
            <div class="form-group">
              <label class="label" for="subject">${t('log.subjectLabel')}</label>
              <p class="hint" id="subject-hint">${t('log.subjectHint')}</p>
              <input
                class="input"
                id="subject"
                name="subject"
                type="text"
                spellcheck="false"
                value="${subject ?? ''}"
                aria-describedby="subject-hint"
              />
            </div>
            <button class="button" type="submit">${t('log.filter')}</button>
          </form>
          ${
            page.length === 0
              ? html`<p class="empty" data-results="0">${t('log.noEntries')}</p>`
              : html`<div class="table-wrap">
                  <table class="table" data-results="${page.length}">
                    <caption class="visually-hidden">
                      ${t('log.entriesTitle')}
                    </caption>
                    <thead>
                      <tr>
                        <th scope="col">${t('log.index')}</th>
                        <th scope="col">${t('log.time')}</th>
                        <th scope="col">${t('log.kind')}</th>
                        <th scope="col">${t('log.actor')}</th>
                        <th scope="col">${t('log.subject')}</th>
                        ${chain ? html`<th scope="col">${t('log.chain')}</th>` : ''}
                      </tr>
                    </thead>
                    <tbody>
                      ${page.map(
                        (e, i) =>
                          html`<tr>
                            <td><a class="link" href="/log/entry/${e.index}">${e.index}</a></td>
                            <td>${formatTime(lang, e.time)}</td>
                            <td><code>${e.kind}</code></td>
                            <td>${e.actor}</td>
                            <td><a class="link" href="/log?subject=${encodeURIComponent(e.subject)}">${e.subject}</a></td>
                            ${chain ? chainCell(e, i) : ''}
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>`
          }
          <nav class="pagination" aria-label="${t('paging.label')}">
            ${beforeQ !== undefined ? html`<a class="link" href="${link(undefined)}">${t('paging.newest')}</a>` : ''}
            ${more ? html`<a class="link" rel="next" href="${link(page[page.length - 1]!.index)}">${t('paging.older')}</a>` : ''}
          </nav>
        </section>
        <section aria-labelledby="consistency">
          <h2 id="consistency">${t('log.consistencyTitle')}</h2>
          <form method="get" action="/log/consistency" novalidate>
            <div class="form-group">
              <label class="label" for="checkpoint-text">${t('log.consistencyLabel')}</label>
              <p class="hint" id="checkpoint-text-hint">${t('log.consistencyHint')}</p>
              <textarea
                class="textarea"
                id="checkpoint-text"
                name="checkpoint"
                rows="6"
                spellcheck="false"
                aria-describedby="checkpoint-text-hint"
              ></textarea>
            </div>
            <button class="button" type="submit">${t('log.consistencyCheck')}</button>
          </form>
        </section>`,
    });
  };
}

export function logEntryPage(deps: LogPageDeps): (req: Request, res: Response, next: (e?: unknown) => void) => Promise<void> {
  return async (req, res, next) => {
    const ctx = pageContext(req, res);
    const { t, lang } = ctx;
    const indexText = String(req.params['index']);
    if (!/^(0|[1-9][0-9]{0,15})$/.test(indexText)) {
      notFound(ctx);
      return;
    }
    const index = Number(indexText);
    const head = await latest(deps);
    const size = head?.checkpoint.size ?? 0;
    let found: ParsedEntry | undefined;
    try {
      const pageOf = await deps.reader.entries(index, index + 1);
      found = pageOf.entries[0] === undefined ? undefined : parseEntry(pageOf.entries[0]);
    } catch (error) {
      if (!(error instanceof AuditError && error.code === 'ERR_AUDIT_RANGE')) {
        next(error);
        return;
      }
    }
    if (found === undefined) {
      notFound(ctx);
      return;
    }
    let proofBlock: Html;
    if (head === undefined || index >= size) {
      proofBlock = html`<p data-proof="not-yet">${t('log.proofNotYet')}</p>`;
    } else {
      const proof = await deps.reader.inclusionProof(index, size);
      let serverOk = true;
      try {
        verifyInclusion(
          index,
          size,
          Buffer.from(found.leafHash, 'hex'),
          proof.proof.map((h) => Buffer.from(h, 'hex')),
          head.checkpoint.root,
        );
      } catch {
        serverOk = false;
      }
      proofBlock = html`<div
        id="inclusion-check"
        data-index="${index}"
        data-tree-size="${size}"
        data-leaf-hash="${found.leafHash}"
        data-proof="${proof.proof.join(',')}"
        data-entry="${found.text}"
        data-checkpoint="${head.stored.note}"
        data-vkey="${deps.vkey}"
        data-msg-verified="${t('log.browserVerified', { size })}"
        data-msg-failed="${t('log.browserFailed')}"
        data-msg-no-ed25519="${t('log.browserNoEd25519', { size })}"
        data-msg-pinned="${t('log.browserAgainstPinned')}"
        data-msg-served="${t('log.browserAgainstServed')}"
      >
        <div class="status-result status-pending" id="browser-check" data-result="pending" role="status" aria-live="polite">
          <p class="js-only" hidden>${t('log.browserChecking')}</p>
          <noscript><p>${t('log.browserNeedsJs')}</p></noscript>
        </div>
        <p data-server-check="${serverOk ? 'verified' : 'failed'}">
          ${serverOk ? t('log.serverVerified', { size }) : t('log.serverFailed')}
        </p>
        <details class="details">
          <summary>${t('log.proofHashes', { n: proof.proof.length })}</summary>
          <ol class="proof">
            ${proof.proof.map((h) => html`<li><code class="hash">${h}</code></li>`)}
          </ol>
        </details>
      </div>`;
    }
    sendPage(ctx, {
      title: t('log.entryTitle', { index }),
      area: 'log',
      scripts: ['log-proof.js'],
      body: html`${summaryList([
          [t('log.time'), formatTime(lang, found.time)],
          [t('log.kind'), html`<code>${found.kind}</code>`],
          [t('log.actor'), found.actor],
          [t('log.subject'), html`<a class="link" href="/log?subject=${encodeURIComponent(found.subject)}">${found.subject}</a>`],
          [t('log.leafHash'), html`<code class="hash">${found.leafHash}</code>`],
          [t('log.subjectPrev'), found.subjectPrev === null ? t('log.chainFirst') : html`<code class="hash">${found.subjectPrev}</code>`],
        ])}
        <h2>${t('log.entryData')}</h2>
        <pre class="json">${JSON.stringify(found.data, null, 2)}</pre>
        <h2>${t('log.proofTitle')}</h2>
        ${proofBlock} ${keySection(ctx, deps)}
        <p><a class="link" href="/log">${t('log.back')}</a></p>`,
    });
  };
}

export function logConsistencyPage(deps: LogPageDeps): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    const ctx = pageContext(req, res);
    const { t } = ctx;
    const given = typeof req.query['checkpoint'] === 'string' ? req.query['checkpoint'].slice(0, MAX_CHECKPOINT_TEXT) : '';
    const text = given.replace(/\r\n/g, '\n').replace(/^\s+/, '');
    const head = await latest(deps);
    const fail = (message: string): void => {
      sendPage(ctx, {
        title: t('log.consistencyTitle'),
        area: 'log',
        errors: [{ field: 'checkpoint-text', message }],
        status: 400,
        body: html`<form method="get" action="/log/consistency" novalidate>
          <div class="form-group form-group-error">
            <label class="label" for="checkpoint-text">${t('log.consistencyLabel')}</label>
            ${fieldError(t, [{ field: 'checkpoint-text', message }], 'checkpoint-text')}
            <textarea
              class="textarea input-error"
              id="checkpoint-text"
              name="checkpoint"
              rows="6"
              spellcheck="false"
              aria-describedby="checkpoint-text-error"
            >
${given}</textarea>
          </div>
          <button class="button" type="submit">${t('log.consistencyCheck')}</button>
        </form>`,
      });
    };
    if (text.trim() === '') return fail(t('log.errorNoCheckpoint'));
    if (head === undefined) return fail(t('log.noCheckpoint'));
    let older: Checkpoint;
    try {
      // A note ends in a newline; a pasted one often lost it.
      older = openCheckpoint(text.endsWith('\n') ? text : `${text}\n`, deps.verifier, deps.verifier.name);
    } catch (error) {
      try {
        parseCheckpoint(text.split('\n\n')[0]! + '\n');
      } catch {
        return fail(t('log.errorMalformed'));
      }
      return fail(t('log.errorSignature', { reason: (error as Error).message }));
    }
    const newer = head.checkpoint;
    let ok: boolean;
    let reason = '';
    if (older.size > newer.size) {
      ok = false;
      reason = t('log.consistencyAhead', { older: older.size, newer: newer.size });
    } else {
      try {
        // The empty tree is a prefix of every tree; otherwise RFC 9162 §2.1.4.2 decides.
        if (older.size > 0) {
          const proof = older.size === newer.size ? [] : (await deps.reader.consistencyProof(older.size, newer.size)).proof;
          verifyConsistency(
            older.size,
            newer.size,
            proof.map((h) => Buffer.from(h, 'hex')),
            older.root,
            newer.root,
          );
        }
        ok = true;
      } catch (error) {
        ok = false;
        reason = (error as Error).message;
      }
    }
    sendPage(ctx, {
      title: t('log.consistencyTitle'),
      area: 'log',
      body: html`<div
          class="status-result status-${ok ? 'good' : 'revoked'}"
          id="consistency-result"
          data-consistent="${ok ? 'yes' : 'no'}"
          role="status"
        >
          <h2>
            ${ok ? t('log.consistent', { older: older.size, newer: newer.size }) : t('log.inconsistent', { older: older.size, newer: newer.size })}
          </h2>
          ${reason === '' ? '' : html`<p>${reason}</p>`}
        </div>
        ${summaryList([
          [t('log.olderRoot'), html`<code class="hash">${older.root.toString('hex')}</code>`],
          [t('log.newerRoot'), html`<code class="hash">${newer.root.toString('hex')}</code>`],
        ])}
        <p><a class="link" href="/log">${t('log.back')}</a></p>`,
    });
  };
}

function notFound(ctx: PageContext): void {
  sendPage(ctx, {
    title: ctx.t('notFound.title'),
    status: 404,
    body: html`<p>${ctx.t('notFound.body')}</p>
      <p><a class="link" href="/">${ctx.t('notFound.home')}</a></p>`,
  });
}

export { notFound };
