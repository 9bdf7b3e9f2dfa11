import { verifyTimestampToken } from '../verify/timestamp.js';
import type { Certificate } from '../verify/certificate.js';
import type { RevocationSource } from '../verify/revocation.js';
import type { TimestampReport } from '../verify/validation-report.js';
import { ASIC_MANIFEST_NAME, ASIC_TIMESTAMP_NAME } from './asic-manifest.js';
import type { OpenedEvidence } from './evidence.js';
import { SubmissionError } from './errors.js';

/**
 * The ASiC time assertion of an opened evidence container (ETSI EN 319 162-1 §4.4.3.3):
 * `META-INF/timestamp.tst`, an RFC 3161 token over `META-INF/ASiCManifest.xml`, whose digests
 * `openEvidence` already matched to every file, so the token dates them all. A token that is not
 * intact (unreadable, another imprint, a broken TSA signature or ESS binding) MUST make this
 * throw ERR_SUBMISSION_EVIDENCE_INVALID; an intact one is reported with its validation (its TSA's
 * path at `time` to `anchors`: TOTAL_PASSED, or INDETERMINATE once the TSA certificate has
 * expired). Undefined when the container has no time assertion (no TSA was available).
 */
export async function verifyManifestTimestamp(
  opened: Pick<OpenedEvidence, 'manifest'>,
  trust: { anchors: readonly Certificate[]; intermediates?: readonly Certificate[] | undefined; revocation: RevocationSource; time: Date },
): Promise<TimestampReport | undefined> {
  const token = opened.manifest.timestamp;
  if (token === undefined) return undefined;
  const v = await verifyTimestampToken({
    token,
    data: opened.manifest.bytes,
    dataName: `the ASiC manifest (${ASIC_MANIFEST_NAME})`,
    anchors: trust.anchors,
    intermediates: trust.intermediates,
    revocation: trust.revocation,
    time: trust.time,
  });
  if (!v.intact) {
    const why = v.report.checks.find((c) => c.result !== 'PASSED');
    throw new SubmissionError(
      'ERR_SUBMISSION_EVIDENCE_INVALID',
      `${ASIC_TIMESTAMP_NAME} is not a valid time-stamp over ${ASIC_MANIFEST_NAME}: ${why?.message ?? 'it could not be read'}`,
    );
  }
  return v.report;
}
