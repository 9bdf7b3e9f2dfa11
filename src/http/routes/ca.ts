import type { Request, Response } from 'express';
import type { CertificateAuthority } from '../../ca/authority.js';
import { CaError } from '../../ca/errors.js';
import { pemEncode } from '../../der/pem.js';
import type { RouteTable } from '../routes.js';

export interface CaRouteDeps {
  ca: CertificateAuthority;
}

/**
 * Public CA material: `GET /ca/chain.pem` (issuing CA + root), `GET /ca/issuing.crl` (DER, the
 * CRL distribution point in every certificate the issuing CA signs), `GET /ca/root.crl` (DER, the
 * root's CRL, on which the issuing CA's status is; its distribution point),
 * `GET /ca/{issuing,root}.cer` (DER, the caIssuers pointer) and `GET /ca/{issuing,root}.pem`.
 */
export function caRoutes(deps: CaRouteDeps): (table: RouteTable) => void {
  return (table) => {
    table.add('get', '/ca/chain.pem', (_req: Request, res: Response) => {
      res.type('application/pem-certificate-chain').send(deps.ca.chainPem);
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
      if (cert === undefined) throw new CaError('ERR_CA_UNKNOWN_CA', `no such CA file ${file}: try chain.pem, root.pem, root.cer, root.crl, issuing.pem, issuing.cer or issuing.crl`);
      if (kind === 'cer') res.type('application/pkix-cert').send(cert);
      else res.type('application/pem-certificate-chain').send(pemEncode('CERTIFICATE', cert));
    });
  };
}
