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

/** The exact bytes that get signed. */
export function documentBytes(document: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify(document), 'utf8');
}
