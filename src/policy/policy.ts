import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { sha256Hex } from '../crypto/digest.js';
import { POLICIES_DIR } from '../paths.js';
import { PolicyError } from './errors.js';
import { POLICY_FILE_SCHEMA, type OfficerRole, type PolicyAlgorithm } from './policy-schema.js';

/**
 * Transaction policies: one YAML file per transaction type, loaded and
 * validated once at start. A file that does not validate stops start-up with an error naming the
 * file and the fault. Each policy's document JSON Schema (draft 2020-12) is compiled once here.
 */

export interface ApprovalStep {
  role: OfficerRole;
  /** `applicant`: the officer's division must contain the enterprise's; `any`: no rule. */
  jurisdiction: 'applicant' | 'any';
  /** This step's officer must differ from the officers of every earlier step. */
  distinctOfficers: boolean;
}

export interface Policy {
  id: string;
  version: number;
  title: string;
  /** The document's JSON Schema (draft 2020-12), as written in the file. */
  document: Record<string, unknown>;
  signature: {
    formats: Array<'cms' | 'jws'>;
    algorithms: PolicyAlgorithm[];
    minRsaBits: number;
    /** ISO 8601 duration as written (e.g. `PT5M`). */
    maxClockSkew: string;
    maxClockSkewMs: number;
  };
  signer: { profile: 'enterprise-signing'; enterpriseStatus: string[] };
  /** Officer steps in order; empty: accepted on verification alone. */
  approval: ApprovalStep[];
}

export type DocumentValidation = { valid: true } | { valid: false; errors: string[] };

/** A policy as loaded: its rules, where it came from, its hash, and its compiled document schema. */
export interface LoadedPolicy extends Policy {
  /** The file it was read from. */
  file: string;
  /** SHA-256 of the file's bytes, lowercase hex: `sha256sum policies/<id>.yaml` gives the same. */
  sha256: string;
  /** Checks a parsed document against the policy's schema. */
  validateDocument(document: unknown): DocumentValidation;
}

/** The policies a running Chancery knows, by id. */
export class PolicySet {
  readonly #byId: Map<string, LoadedPolicy>;

  constructor(policies: LoadedPolicy[]) {
    this.#byId = new Map(policies.map((p) => [p.id, p]));
  }

  get(id: string): LoadedPolicy | undefined {
    return this.#byId.get(id);
  }

  /** The policy with this id; ERR_POLICY_UNKNOWN (a client fault) when there is none. */
  require(id: string): LoadedPolicy {
    const p = this.#byId.get(id);
    if (p === undefined) {
      throw new PolicyError('ERR_POLICY_UNKNOWN', `no policy "${id.slice(0, 64)}"; known: ${[...this.#byId.keys()].sort().join(', ')}`, {
        detail: { known: [...this.#byId.keys()].sort() },
      });
    }
    return p;
  }

  list(): LoadedPolicy[] {
    return [...this.#byId.values()].sort((a, b) => a.id.localeCompare(b.id));
  }
}

/** The four core fields every document carries. */
export const CORE_DOCUMENT_FIELDS = ['type', 'applicant', 'applicationId', 'createdAt'] as const;

/**
 * Loads every `*.yaml` in `dir` (default: the shipped `policies/`). MUST throw PolicyError
 * ERR_POLICY_INVALID naming the file and the fault when any file is invalid, or when two files
 * define the same id.
 */
export function loadPolicies(dir: string = POLICIES_DIR): PolicySet {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith('.yaml') || n.endsWith('.yml'))
      .sort();
  } catch (error) {
    throw new PolicyError('ERR_POLICY_INVALID', `policies: cannot read the directory ${dir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (names.length === 0) throw new PolicyError('ERR_POLICY_INVALID', `policies: no *.yaml policy files in ${dir}`);
  const loaded: LoadedPolicy[] = [];
  for (const name of names) {
    const file = join(dir, name);
    const policy = loadPolicyText(readFileSync(file), file);
    const clash = loaded.find((p) => p.id === policy.id);
    if (clash !== undefined) throw invalid(file, `defines the policy id "${policy.id}" that ${clash.file} defines too`);
    loaded.push(policy);
  }
  return new PolicySet(loaded);
}

/** Parses and validates one policy file's bytes. `file` is used in messages and must be `<id>.yaml`. */
export function loadPolicyText(bytes: Uint8Array, file: string): LoadedPolicy {
  // One compiler per policy: each document schema lives in its own registry, so ids cannot clash.
  const ajv = newAjv();
  let raw: unknown;
  try {
    raw = parseYaml(Buffer.from(bytes).toString('utf8'), { uniqueKeys: true, maxAliasCount: 0 });
  } catch (error) {
    throw invalid(file, `is not valid YAML: ${firstLine((error as Error).message)}`);
  }
  const validateFile = ajv.compile(POLICY_FILE_SCHEMA);
  if (!validateFile(raw)) throw invalid(file, `does not match the policy format: ${describeErrors(validateFile.errors ?? [])}`);
  const p = raw as Omit<Policy, 'signature' | 'approval'> & {
    signature: Omit<Policy['signature'], 'maxClockSkewMs'>;
    approval: Array<{ role: OfficerRole; jurisdiction?: 'applicant' | 'any'; distinctOfficers?: boolean }>;
  };
  const stem = basename(file).replace(/\.ya?ml$/, '');
  if (stem !== p.id) throw invalid(file, `defines the policy id "${p.id}" but the file must then be named ${p.id}.yaml`);
  checkDocumentSchema(p.id, p.document, file);
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(p.document);
  } catch (error) {
    throw invalid(file, `has a document schema that does not compile as JSON Schema 2020-12: ${firstLine((error as Error).message)}`);
  }
  if (p.approval.length > 0 && p.approval[0]!.distinctOfficers === true) {
    throw invalid(file, 'sets distinctOfficers on its first approval step, which has no earlier officer to differ from');
  }
  return {
    id: p.id,
    version: p.version,
    title: p.title,
    document: p.document,
    signature: { ...p.signature, maxClockSkewMs: durationMs(p.signature.maxClockSkew) },
    signer: p.signer,
    approval: p.approval.map((s) => ({
      role: s.role,
      jurisdiction: s.jurisdiction ?? 'any',
      distinctOfficers: s.distinctOfficers ?? false,
    })),
    file,
    sha256: sha256Hex(bytes),
    validateDocument: (document) =>
      validate(document) ? { valid: true } : { valid: false, errors: (validate.errors ?? []).slice(0, 10).map(describeError) },
  };
}

/** A document schema must pin `type` to the policy id and require the four core fields. */
function checkDocumentSchema(id: string, schema: Record<string, unknown>, file: string): void {
  if (schema['$schema'] !== 'https://json-schema.org/draft/2020-12/schema') {
    throw invalid(file, 'has a document schema without "$schema": "https://json-schema.org/draft/2020-12/schema"');
  }
  if (schema['type'] !== 'object') throw invalid(file, 'has a document schema whose type is not "object"');
  const required = Array.isArray(schema['required']) ? (schema['required'] as unknown[]) : [];
  const missing = CORE_DOCUMENT_FIELDS.filter((f) => !required.includes(f));
  if (missing.length > 0) throw invalid(file, `has a document schema that does not require ${missing.join(', ')}`);
  const properties = (schema['properties'] ?? {}) as Record<string, Record<string, unknown> | undefined>;
  if (properties['type']?.['const'] !== id) throw invalid(file, `has a document schema whose "type" property is not { const: ${id} }`);
}

function newAjv(): Ajv2020 {
  // strict: unknown keywords and ambiguous schemas are errors, so a typo in a policy stops start-up.
  // (strictRequired off: `anyOf: [{required: [phone]}, …]` naming parent properties is intended.)
  return new Ajv2020({ strict: true, strictRequired: false, allErrors: true, allowUnionTypes: false });
}

/** PTnHnMnS to milliseconds (the only durations a clock skew needs). */
export function durationMs(iso: string): number {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(iso);
  if (m === null) throw new PolicyError('ERR_POLICY_INVALID', `"${iso}" is not a duration of the form PTnHnMnS`);
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}

function describeErrors(errors: ErrorObject[]): string {
  return errors.slice(0, 3).map(describeError).join('; ');
}

function describeError(e: ErrorObject): string {
  const at = e.instancePath === '' ? 'the top level' : e.instancePath;
  const extra =
    e.keyword === 'additionalProperties'
      ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})`
      : e.keyword === 'enum'
        ? ` (${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)})`
        : '';
  return `${at} ${e.message ?? 'is invalid'}${extra}`;
}

function invalid(file: string, fault: string): PolicyError {
  return new PolicyError('ERR_POLICY_INVALID', `policy file ${file} ${fault}`, { detail: { file } });
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
