import type { Request, Response } from 'express';
import type { CertificateInfo, IssueRequest } from '../../ca/authority.js';
import { principalOf, requireRole, type Authenticator } from '../auth-middleware.js';
import { jsonBody } from '../body.js';
import type { RouteTable } from '../routes.js';
import { objectBody } from './enterprises.js';
import { optionalJsonBody } from './optional-body.js';

/** The CA's certificate operations as these routes use them (input is validated by the CA). */
export interface CertificateIssuer {
  issue(request: IssueRequest, actor: string): Promise<CertificateInfo>;
  issuePkcs12(
    request: Omit<IssueRequest, 'csr'> & { keyAlgorithm?: unknown },
    actor: string,
  ): Promise<{ certificate: CertificateInfo; pkcs12: Buffer; password: string }>;
  getCertificate(serial: unknown): Promise<CertificateInfo>;
  revoke(serial: unknown, reason: unknown, actor: string): Promise<CertificateInfo>;
}

export interface CertificateRouteDeps {
  ca: CertificateIssuer;
  auth: Authenticator;
}

/** A CSR is a few KiB; the JSON around it little more. */
const CSR_BODY_LIMIT = 64 * 1024;

/**
 * Certificate routes (admin): issue from a CSR, issue with a server-generated key as PKCS#12,
 * show, revoke. Auditors may read certificates.
 */
export function certificateRoutes(deps: CertificateRouteDeps): (table: RouteTable) => void {
  return (table) => {
    table.add(
      'post',
      '/api/v1/certificates',
      requireRole(deps.auth, 'admin'),
      jsonBody(CSR_BODY_LIMIT),
      async (req: Request, res: Response) => {
        const b = objectBody(req.body);
        const certificate = await deps.ca.issue(
          { profile: b['profile'], csr: b['csr'], uscc: b['uscc'], officerId: b['officerId'], name: b['name'] },
          principalOf(res).actor,
        );
        res.status(201).location(`/api/v1/certificates/${certificate.serial}`).json(certificate);
      },
    );

    table.add('post', '/api/v1/certificates/pkcs12', requireRole(deps.auth, 'admin'), jsonBody(), async (req: Request, res: Response) => {
      const b = objectBody(req.body);
      const issued = await deps.ca.issuePkcs12(
        { profile: b['profile'], uscc: b['uscc'], officerId: b['officerId'], name: b['name'], keyAlgorithm: b['keyAlgorithm'] },
        principalOf(res).actor,
      );
      res.setHeader('Cache-Control', 'no-store');
      res
        .status(201)
        .location(`/api/v1/certificates/${issued.certificate.serial}`)
        .json({
          certificate: issued.certificate,
          pkcs12: issued.pkcs12.toString('base64'),
          password: issued.password,
        });
    });

    table.add('get', '/api/v1/certificates/:serial', requireRole(deps.auth, 'admin', 'auditor'), async (req: Request, res: Response) => {
      res.json(await deps.ca.getCertificate(req.params['serial']));
    });

    table.add(
      'post',
      '/api/v1/certificates/:serial/revoke',
      requireRole(deps.auth, 'admin'),
      optionalJsonBody(),
      async (req: Request, res: Response) => {
        res.json(await deps.ca.revoke(req.params['serial'], objectBody(req.body)['reason'], principalOf(res).actor));
      },
    );
  };
}
