/**
 * Application documents that look like what a registry receives (policies/*.yaml), for the demo,
 * the benchmark and tests. The bytes are what gets signed: JSON text, UTF-8, no BOM.
 */

export function foodBusinessLicence(
  applicant: string,
  applicationId: string,
  createdAt: Date,
  premisesDivision = '440305',
): Record<string, unknown> {
  return {
    type: 'food-business-licence',
    applicant,
    applicationId,
    createdAt: createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    premises: { address: 'No. 18 Keyuan Road, Nanshan District, Shenzhen', divisionCode: premisesDivision, areaSquareMetres: 86.5 },
    businessCategories: ['prepackagedFoodSale', 'hotFoodPreparation', 'beveragePreparation'],
    foodSafetyManager: { name: 'Li Hua', phone: '+86 755 2660 1234', trainingCertificate: 'FSM-2025-044871' },
    storageConditions: { ambient: true, refrigerated: true, frozen: false, notes: 'Two commercial refrigerators, logged twice daily' },
    staffWithHealthCertificates: 6,
  };
}

export function annualReport(
  applicant: string,
  applicationId: string,
  createdAt: Date,
  reportYear = createdAt.getUTCFullYear() - 1,
): Record<string, unknown> {
  return {
    type: 'annual-report',
    applicant,
    applicationId,
    createdAt: createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    reportYear,
    registeredAddress: 'No. 18 Keyuan Road, Nanshan District, Shenzhen',
    contact: { phone: '+86 755 2660 1234', email: 'office@example.cn', postalCode: '518057', publish: true },
    employees: { value: 42, publish: true },
    totalAssets: { value: '18250000.00', publish: false },
    revenue: { value: '9630000.50', publish: true },
    taxPaid: { value: '412000.00', publish: true },
  };
}

export function businessRegistrationChange(applicant: string, applicationId: string, createdAt: Date): Record<string, unknown> {
  return {
    type: 'business-registration-change',
    applicant,
    applicationId,
    createdAt: rfc3339(createdAt),
    changes: [
      {
        item: 'address',
        oldValue: 'No. 18 Keyuan Road, Nanshan District, Shenzhen',
        newValue: 'No. 9 Gaoxin South 4th Road, Nanshan District, Shenzhen',
      },
    ],
    reason: 'The business moved to larger premises on 1 November.',
    shareholderResolutionDate: '2026-10-20',
    attachments: [{ fileName: 'resolution-2026-10-20.pdf', mediaType: 'application/pdf', sha256: '0'.repeat(64) }],
  };
}

export function complaint(applicant: string, applicationId: string, createdAt: Date, respondent = applicant): Record<string, unknown> {
  return {
    type: 'complaint',
    applicant,
    applicationId,
    createdAt: rfc3339(createdAt),
    complainant: { name: 'Chen Jing', phone: '+86 755 2660 5678', email: 'chen.jing@example.cn' },
    respondent,
    category: 'falseAdvertising',
    description: 'The respondent advertises its bottled water as "mineral water" although the label lists purified tap water.',
    incidentDate: '2026-11-12',
    evidence: [{ fileName: 'label-photo.jpg', mediaType: 'image/jpeg', sha256: '0'.repeat(64) }],
    remedySought: { kind: 'investigation', details: 'Correct the advertising and the labels.' },
  };
}

/**
 * A valid example document for each policy shipped in policies/, so a newcomer starts from a
 * document that passes (`chancery sample`, `GET /api/v1/policies/{id}/sample`). Undefined for a
 * policy with no sample here.
 */
export function sampleDocument(policyId: string, applicant: string, createdAt: Date = new Date()): Record<string, unknown> | undefined {
  const applicationId = `SAMPLE-${createdAt.toISOString().slice(0, 10).replaceAll('-', '')}-001`;
  switch (policyId) {
    case 'food-business-licence':
      return foodBusinessLicence(applicant, applicationId, createdAt);
    case 'annual-report':
      return annualReport(applicant, applicationId, createdAt);
    case 'business-registration-change':
      return businessRegistrationChange(applicant, applicationId, createdAt);
    case 'complaint':
      return complaint(applicant, applicationId, createdAt, SAMPLE_RESPONDENT);
    default:
      return undefined;
  }
}

/** Example USCCs with valid check characters (GB 32100-2015), for samples only. */
export const SAMPLE_APPLICANT = '91440300712345672N';
const SAMPLE_RESPONDENT = '91440300798765431K';

function rfc3339(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The exact bytes that get signed. */
export function documentBytes(document: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify(document), 'utf8');
}
