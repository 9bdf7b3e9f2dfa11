import type { Request, Response } from 'express';
import { CaError } from '../../ca/errors.js';
import { pemEncode } from '../../der/pem.js';
import type { RouteTable } from '../routes.js';

/** The CA's public files: its chain, its certificates and its current CRLs. */
export interface CaFiles {
  readonly chainPem: string;
  readonly hierarchy: { root: { der: Buffer }; issuing: { der: Buffer } };
  /** The current CRL (DER) of the CA named `ca`; ERR_CA_UNKNOWN_CA for another name. */
  currentCrl(ca: string): Promise<Buffer>;
  /** The current CRL (DER) of one partition of the issuing CA; ERR_CA_UNKNOWN_CA for no such partition. */
  currentPartitionCrl(partition: string): Promise<Buffer>;
}

export interface CaRouteDeps {
  ca: CaFiles;
}

/**
 * Public CA material: `GET /ca/chain.pem` (issuing CA + root), `GET /ca/issuing.crl` (DER, the
 * CRL distribution point in every certificate the issuing CA signs), `GET /ca/root.crl` (DER, the
 * root's CRL, on which the issuing CA's status is; its distribution point),
 * `GET /ca/{issuing,root}.cer` (DER, the caIssuers pointer), `GET /ca/{issuing,root}.pem`, and
 * `GET /ca/crl/{partition}` (DER, the CRL of one partition: the distribution point its
 * certificates name). A partition CRL lists every revocation acknowledged before the request, so
 * caches must revalidate it (no-cache; the ETag makes that a 304 while it is unchanged).
 */
export function caRoutes(deps: CaRouteDeps): (table: RouteTable) => void {
  return (table) => {
    table.add('get', '/ca/chain.pem', (_req: Request, res: Response) => {
      res.type('application/pem-certificate-chain').send(deps.ca.chainPem);
    });

    table.add('get', '/ca/crl/:partition', async (req: Request, res: Response) => {
      const der = await deps.ca.currentPartitionCrl(String(req.params['partition']));
      res.setHeader('Cache-Control', 'public, no-cache');
      res.type('application/pkix-crl').send(der);
    });

    table.add('get', '/ca/:file', async (req: Request, res: Response) => {
      const file = String(req.params['file']);
      const h = deps.ca.hierarchy;
      const match = /^([a-z0-9-]{1,32})\.(crl|cer|pem)$/.exec(file);
      const [name, kind] = match === null ? [] : [match[1]!, match[2]!];
      if (kind === 'crl') {
        const der = await deps.ca.currentCrl(name!);
        res.setHeader('Cache-Control', 'public, max-age=60');
        res.type('application/pkix-crl').send(der);
        return;
      }
      const cert = name === 'root' ? h.root.der : name === 'issuing' ? h.issuing.der : undefined;
      if (cert === undefined)
        throw new CaError(
          'ERR_CA_UNKNOWN_CA',
          `no such CA file ${file}: try chain.pem, root.pem, root.cer, root.crl, issuing.pem, issuing.cer or issuing.crl`,
        );
      if (kind === 'cer') res.type('application/pkix-cert').send(cert);
      else res.type('application/pem-certificate-chain').send(pemEncode('CERTIFICATE', cert));
    });
  };
}
