import { describe, expect, it } from 'vitest';
import { CORE_DOCUMENT_FIELDS, loadPolicies } from '../../src/policy/policy.js';
import { LANGS, translator } from '../../src/web/i18n.js';

/**
 * Every field a policy's application form asks for is named in both languages: each property of
 * each policy's document schema (nested objects, and the objects inside arrays, by the array's
 * path) has a `field.<path>` title in the Chinese and the English catalogue, each property with a
 * schema description has a `hint.<path>` (else a Chinese page would show the English
 * description), and each enum value an `option.<value>`. The core fields (type, applicant,
 * applicationId, createdAt) are filled in by the service and never shown as inputs. A policy
 * field added without its titles fails here.
 */

type Schema = Record<string, unknown>;

function resolve(root: Schema, schema: unknown): Schema {
  const s = (schema ?? {}) as Schema;
  const ref = s['$ref'];
  if (typeof ref === 'string' && ref.startsWith('#/$defs/'))
    return resolve(root, ((root['$defs'] ?? {}) as Record<string, Schema>)[ref.slice(8)]);
  return s;
}

/** The catalogue keys the form of a document schema needs, each with the property that needs it. */
function neededKeys(root: Schema): Map<string, string> {
  const needed = new Map<string, string>();
  const walk = (schema: Schema, prefix: string): void => {
    for (const [name, raw] of Object.entries((schema['properties'] ?? {}) as Record<string, unknown>)) {
      if (prefix === '' && (CORE_DOCUMENT_FIELDS as readonly string[]).includes(name)) continue;
      const path = prefix === '' ? name : `${prefix}.${name}`;
      const s = resolve(root, raw);
      needed.set(`field.${path}`, path);
      if (typeof s['description'] === 'string') needed.set(`hint.${path}`, path);
      const items = resolve(root, s['items']);
      const values = (Array.isArray(s['enum']) ? s['enum'] : Array.isArray(items['enum']) ? items['enum'] : []) as unknown[];
      for (const v of values) needed.set(`option.${String(v)}`, path);
      if (s['properties'] !== undefined) walk(s, path);
      if (s['type'] === 'array' && items['properties'] !== undefined) walk(items, path);
    }
  };
  walk(root, '');
  return needed;
}

function missingIn(lang: (typeof LANGS)[number], root: Schema): string[] {
  const t = translator(lang);
  return [...neededKeys(root)].filter(([key]) => !t.has(key)).map(([key, path]) => `${key} (${path})`);
}

const policies = loadPolicies().list();

describe('policy field titles in both catalogues', () => {
  it('covers the four policies that ship', () => {
    expect(policies.map((p) => p.id)).toEqual(['annual-report', 'business-registration-change', 'complaint', 'food-business-licence']);
  });

  for (const policy of policies) {
    for (const lang of LANGS) {
      it(`${policy.id}: every property has a title, hint and option names in ${lang}`, () => {
        expect(neededKeys(policy.document).size).toBeGreaterThan(5);
        expect(missingIn(lang, policy.document)).toEqual([]);
      });
    }
  }

  it('reaches nested objects, objects inside arrays, $ref definitions and enum values', () => {
    const byId = new Map(policies.map((p) => [p.id, neededKeys(p.document)]));
    expect([...byId.get('food-business-licence')!.keys()]).toEqual(
      expect.arrayContaining(['field.premises.address', 'hint.premises.divisionCode', 'option.hotFoodPreparation']),
    );
    expect([...byId.get('complaint')!.keys()]).toEqual(
      expect.arrayContaining(['field.evidence.sha256', 'field.remedySought.kind', 'option.investigation', 'hint.respondent']),
    );
    expect([...byId.get('annual-report')!.keys()]).toEqual(expect.arrayContaining(['field.netProfit.publish', 'hint.totalAssets']));
    expect([...byId.get('business-registration-change')!.keys()]).toEqual(
      expect.arrayContaining(['field.changes.newValue', 'option.registeredCapital', 'field.attachments.mediaType']),
    );
    for (const keys of byId.values())
      expect([...keys.keys()].some((k) => /^field\.(type|applicant|applicationId|createdAt)$/.test(k))).toBe(false);
  });

  it('fails a policy whose new field, nested field or enum value has no title', () => {
    const annual = policies.find((p) => p.id === 'annual-report')!.document;
    const properties = annual['properties'] as Record<string, Schema>;
    const extended: Schema = {
      ...annual,
      properties: {
        ...properties,
        branchOffices: { type: 'integer', description: 'How many branch offices.' },
        contact: { ...properties['contact'], properties: { ...(properties['contact']!['properties'] as Schema), fax: { type: 'string' } } },
        sector: { enum: ['manufacturing'] },
      },
    };
    for (const lang of LANGS) {
      expect(missingIn(lang, extended)).toEqual([
        'field.contact.fax (contact.fax)',
        'field.branchOffices (branchOffices)',
        'hint.branchOffices (branchOffices)',
        'field.sector (sector)',
        'option.manufacturing (sector)',
      ]);
    }
  });
});
