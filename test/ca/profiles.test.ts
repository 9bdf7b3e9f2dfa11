import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProfiles, PROFILE_IDS } from '../../src/ca/profiles.js';
import { OID } from '../../src/oids.js';
import { PROFILES_DIR } from '../../src/paths.js';
import { expectCode } from '../helpers/expect-code.js';

/** A copy of the shipped profiles with one file replaced by `text` (or removed when undefined). */
function profilesWith(file: string, text: string | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'chancery-profiles-'));
  cpSync(PROFILES_DIR, dir, { recursive: true });
  if (text === undefined) rmSync(join(dir, file));
  else writeFileSync(join(dir, file), text);
  return dir;
}

describe('certificate profiles', () => {
  it('loads the nine shipped profiles, the TSA one included; the enterprise profile binds the USCC as organizationIdentifier', () => {
    const profiles = loadProfiles();
    expect([...profiles.keys()].sort()).toEqual([...PROFILE_IDS].sort());
    const enterprise = profiles.get('enterprise-signing')!;
    expect(enterprise.subject.map((s) => s.type)).toEqual(['C', 'O', 'organizationIdentifier', 'CN']);
    expect(enterprise.subject[2]!.template).toBe('NTRCN-${enterprise.uscc}');
    expect(enterprise.keyUsage).toEqual(['digitalSignature', 'nonRepudiation']);
    expect(enterprise.extendedKeyUsage).toEqual(['documentSigning']);
    expect(enterprise.certificatePolicies).toEqual([OID.policyEnterpriseSigning]);
    expect(enterprise.validityDays).toBe(365);
    expect(profiles.get('ocsp-responder')!.ocspNoCheck).toBe(true);
    expect(profiles.get('officer')!.officerAuthorization).toBe(true);
    expect(profiles.get('tsa')).toMatchObject({
      extendedKeyUsage: ['timeStamping'],
      extendedKeyUsageCritical: true,
      keyUsage: ['digitalSignature', 'nonRepudiation'],
    });
  });

  it.each([
    ['an unknown key', 'enterprise-signing.yaml', (t: string) => `${t}\nsurprise: true\n`, 'unknown key "surprise"'],
    [
      'a variable its holder lacks',
      'enterprise-signing.yaml',
      (t: string) => t.replace('${enterprise.name}', '${officer.name}'),
      'not available for holder enterprise',
    ],
    [
      'an unknown key usage',
      'officer.yaml',
      (t: string) => t.replace('nonRepudiation]', 'teleport]'),
      'keyUsage: unknown value "teleport"',
    ],
    ['a bad validity', 'auditor.yaml', (t: string) => t.replace('validityDays: 365', 'validityDays: -1'), 'validityDays'],
    ['broken YAML', 'admin.yaml', () => 'id: [unclosed', 'not valid YAML'],
    [
      'an id that does not match its file',
      'auditor.yaml',
      (t: string) => t.replace('id: auditor', 'id: admin'),
      'must match the file name',
    ],
  ])('refuses %s, naming the file and the fault', async (_what, file, edit, fault) => {
    const dir = profilesWith(file, edit(readFileSync(join(PROFILES_DIR, file), 'utf8')));
    const error = await expectCode(() => loadProfiles(dir), 'ERR_CA_PROFILE_INVALID');
    expect(error.message).toContain(fault);
    expect(error.message).toContain(file === 'auditor.yaml' && fault.includes('match') ? 'auditor.yaml' : file);
  });

  it('refuses a set of profiles missing one', async () => {
    const error = await expectCode(() => loadProfiles(profilesWith('officer.yaml', undefined)), 'ERR_CA_PROFILE_INVALID');
    expect(error.message).toContain('missing officer.yaml');
  });
});
