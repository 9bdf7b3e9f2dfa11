import type { AuditPart } from '../audit/open.js';
import { openapiRoutes } from '../http/openapi.js';
import type { RouteTable } from '../http/routes.js';
import { authRoutes } from '../http/routes/auth.js';
import { caRoutes } from '../http/routes/ca.js';
import { certificateRoutes } from '../http/routes/certificates.js';
import { enterpriseRoutes } from '../http/routes/enterprises.js';
import { logRoutes } from '../http/routes/log.js';
import { ocspRoutes } from '../http/routes/ocsp.js';
import { officerRoutes } from '../http/routes/officers.js';
import { policyRoutes } from '../http/routes/policies.js';
import { submissionRoutes } from '../http/routes/submissions.js';
import { tsaRoutes } from '../http/routes/tsa.js';
import { verifyRoutes } from '../http/routes/verify.js';
import type { PolicySet } from '../policy/policy.js';
import { SAMPLE_APPLICANT, sampleDocument } from '../submissions/samples.js';
import { webRouter } from '../web/index.js';
import type { Parts } from './parts.js';

/**
 * Every route module of the HTTP API, each given the parts it needs and nothing more. The
 * order is the order of the table (and of the OpenAPI document's paths).
 */
export function apiRoutes(
  parts: Parts,
  audit: AuditPart,
  policies: PolicySet,
  observe: { onLoginRefused?: (code: string) => void } = {},
): Array<(table: RouteTable) => void> {
  const { auth, registry, ca, ocsp } = parts;
  const routes = [
    authRoutes({ auth, ...(observe.onLoginRefused === undefined ? {} : { onLoginRefused: observe.onLoginRefused }) }),
    enterpriseRoutes({ registry, auth }),
    officerRoutes({ registry, auth }),
    certificateRoutes({ ca, auth }),
    caRoutes({ ca }),
    ocspRoutes({ ocsp }),
    tsaRoutes({ tsa: parts.tsa }),
    logRoutes({ reader: audit.reader, vkey: audit.logKey.vkey }),
    verifyRoutes({ trust: () => parts.trust, revocation: parts.revocation, policies, logVerifierKey: audit.logKey.vkey }),
    policyRoutes({ policies, sample: (id, applicant) => sampleDocument(id, applicant), sampleApplicant: SAMPLE_APPLICANT }),
  ];
  if (parts.submissions !== undefined) routes.push(submissionRoutes({ submissions: parts.submissions, auth }));
  routes.push(openapiRoutes());
  return routes;
}

/** The web pages over the same parts (src/web): public verification, the log explorer, sign-in and applications. */
export function webPages(parts: Parts, audit: AuditPart, policies: PolicySet): ReturnType<typeof webRouter> {
  const { registry, ca, auth } = parts;
  const submissions = parts.submissions!;
  return webRouter({
    verify: { trust: () => parts.trust, revocation: parts.revocation, policies },
    public: {
      listEnterprises: (options) => registry.listEnterprises(options),
      certificateStatus: (serial) => ca.certificateStatus(serial),
    },
    log: { reader: audit.reader, verifier: audit.logKey.verifier, vkey: audit.logKey.vkey },
    account: {
      authenticate: (authorization, context) => auth.authenticate(authorization, context),
      submissions: {
        list: (query, caller, context) => submissions.list(query, caller, context),
        get: (id, caller, context) => submissions.get(id, caller, context),
        receipt: (id, caller, context) => submissions.receipt(id, caller, context),
        envelope: (id, caller, context) => submissions.envelope(id, caller, context),
        evidence: (id, caller, context) => submissions.evidence(id, caller, context),
        countersign: (id, upload, caller, context) => submissions.countersign(id, upload, caller, context),
      },
    },
    policies,
  });
}
