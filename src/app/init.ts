import { join } from 'node:path';
import { openAudit } from '../audit/open.js';
import { caUrls, DEFAULT_CRL_PARTITIONS } from '../ca/crl-publisher.js';
import { initializeHierarchy } from '../ca/hierarchy.js';
import { loadProfiles } from '../ca/profiles.js';
import type { InitResult } from '../cli/services.js';
import type { Config } from '../config.js';
import { prepareDataDir } from '../data-dir.js';
import type { Logger } from '../log.js';
import { openStorage } from './storage.js';

/**
 * Makes the CA hierarchy (root P-384, issuing CA P-256, delegated OCSP responder, service seal),
 * the log key and the operator's admin credential in the data dir, and records `ca.initialized`
 * in the audit log. Refuses to replace an existing hierarchy.
 */
export async function initializeDataDir(config: Config, logger: Logger, options: { adminName: string }): Promise<InitResult> {
  prepareDataDir(config.dataDir);
  const { db, keys } = await openStorage(config, logger);
  try {
    const audit = await openAudit({ db, keyStore: keys, dataDir: config.dataDir, logger });
    try {
      const base = config.publicUrl ?? `http://${config.host}:${config.port}`;
      const { hierarchy, files } = await initializeHierarchy(
        { db, audit: audit.log, keys, profiles: loadProfiles(), now: () => new Date(), dataDir: config.dataDir, urls: caUrls(base) },
        { adminName: options.adminName, crlPartitions: config.crlPartitions },
      );
      return {
        dataDir: config.dataDir,
        root: { serial: hierarchy.root.serial, sha256: hierarchy.root.sha256, notAfter: hierarchy.root.notAfter.toISOString() },
        issuing: { serial: hierarchy.issuing.serial, sha256: hierarchy.issuing.sha256 },
        admin: { serial: hierarchy.admin.serial, key: files.adminKey, certificate: files.adminCert },
        files: { root: files.root, chain: files.chain, logVkey: join(config.dataDir, 'log.vkey') },
        logKey: audit.logKey.vkey,
        crlPartitions: config.crlPartitions ?? DEFAULT_CRL_PARTITIONS,
      };
    } finally {
      await audit.close();
    }
  } finally {
    await db.close();
  }
}
