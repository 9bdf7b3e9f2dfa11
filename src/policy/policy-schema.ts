/**
 * The JSON Schema (draft 2020-12) of a policy file. A policy file that does
 * not validate against it stops the service at start. The document schema inside a policy is
 * checked separately: it must compile as draft 2020-12 and pin the four core fields.
 */

/** Signature algorithm names a policy may allow. JOSE names, plus explicit names for CMS-only ECDSA curve/hash pairs. */
export const POLICY_ALGORITHMS = [
  'ES256',
  'ES384',
  'EdDSA',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ECDSA-P256-SHA384',
  'ECDSA-P256-SHA512',
  'ECDSA-P384-SHA256',
  'ECDSA-P384-SHA512',
] as const;
export type PolicyAlgorithm = (typeof POLICY_ALGORITHMS)[number];

/** Officer roles. */
export const OFFICER_ROLES = ['reviewer', 'approver', 'handler'] as const;
export type OfficerRole = (typeof OFFICER_ROLES)[number];

export const POLICY_FILE_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'urn:chancery:schema:policy-file',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'version', 'title', 'document', 'signature', 'signer', 'approval'],
  properties: {
    id: { type: 'string', pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$', maxLength: 64 },
    version: { type: 'integer', minimum: 1 },
    title: { type: 'string', minLength: 1, maxLength: 200 },
    document: { type: 'object' },
    signature: {
      type: 'object',
      additionalProperties: false,
      required: ['formats', 'algorithms', 'minRsaBits', 'maxClockSkew'],
      properties: {
        formats: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: ['cms', 'jws'] } },
        algorithms: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...POLICY_ALGORITHMS] } },
        minRsaBits: { type: 'integer', minimum: 2048, maximum: 4096 },
        maxClockSkew: { type: 'string', pattern: '^PT(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+S)?$', minLength: 3 },
      },
    },
    signer: {
      type: 'object',
      additionalProperties: false,
      required: ['profile', 'enterpriseStatus'],
      properties: {
        profile: { enum: ['enterprise-signing'] },
        enterpriseStatus: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: ['active', 'revoked', 'deregistered'] } },
      },
    },
    approval: {
      type: 'array',
      maxItems: 8,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['role'],
        properties: {
          role: { enum: [...OFFICER_ROLES] },
          jurisdiction: { enum: ['applicant', 'any'] },
          distinctOfficers: { type: 'boolean' },
        },
      },
    },
  },
} as const;
