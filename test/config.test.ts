import { describe, expect, it } from 'vitest';
import { loadConfig, redactDatabaseUrl } from '../src/config.js';
import { expectCode } from './helpers/expect-code.js';

describe('loadConfig', () => {
  it('defaults to the embedded database on 127.0.0.1:8080 under ./data', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8080, logLevel: 'info', databaseUrl: undefined });
    expect(config.dataDir).toBe(`${process.cwd()}/data`);
  });

  it('augments accepted signatures to B-LT unless CHANCERY_AUGMENT says otherwise', () => {
    expect(loadConfig({}).augment).toBe('lt');
    expect(loadConfig({ CHANCERY_AUGMENT: 't' }).augment).toBe('t');
    expect(loadConfig({ CHANCERY_AUGMENT: 'none' }).augment).toBe('none');
  });

  it('lets command-line flags win over the environment', () => {
    const config = loadConfig({ PORT: '9000', HOST: '0.0.0.0' }, { port: '9100' });
    expect(config.port).toBe(9100);
    expect(config.host).toBe('0.0.0.0');
  });

  it.each([
    [{ PORT: 'http' }, 'PORT: "http" is not a port number'],
    [{ PORT: '70000' }, 'PORT: 70000 is out of range'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL: "loud" is not one of'],
    [{ DATABASE_URL: 'mysql://x@y/z' }, 'DATABASE_URL: scheme must be postgres://'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL: not a URL'],
    [{ HOST: 'bad host!' }, 'HOST: "bad host!" is not a host name'],
    [{ CHANCERY_KEY_PASSPHRASE: 'short' }, 'CHANCERY_KEY_PASSPHRASE: must be at least 12 characters'],
    [{ CHANCERY_CRL_PARTITIONS: '0' }, 'CHANCERY_CRL_PARTITIONS: "0" is not a CRL partition count (an integer from 1 to 4096)'],
    [{ CHANCERY_CRL_PARTITIONS: '4097' }, 'CHANCERY_CRL_PARTITIONS: "4097" is not a CRL partition count'],
    [{ CHANCERY_CRL_PARTITIONS: '8.5' }, 'CHANCERY_CRL_PARTITIONS: "8.5" is not a CRL partition count'],
    [{ CHANCERY_CRL_PARTITIONS: '-8' }, 'CHANCERY_CRL_PARTITIONS: "-8" is not a CRL partition count'],
    [{ CHANCERY_AUGMENT: 'b-lta' }, 'CHANCERY_AUGMENT: "b-lta" is not one of none, t, lt'],
  ])('refuses %j with one line naming the variable', async (env, message) => {
    const error = await expectCode(() => loadConfig(env), 'ERR_CONFIG_INVALID');
    expect(error.message).toContain(message);
    expect(error.message).not.toContain('\n');
  });

  it('names the flag, not the variable, when the bad value came from a flag', async () => {
    const error = await expectCode(() => loadConfig({}, { port: '-1' }), 'ERR_CONFIG_INVALID');
    expect(error.message).toMatch(/^--port: /);
  });

  it('reads the CRL partition count from CHANCERY_CRL_PARTITIONS or --crl-partitions (the flag wins), unset by default', async () => {
    expect(loadConfig({}).crlPartitions).toBeUndefined();
    expect(loadConfig({ CHANCERY_CRL_PARTITIONS: '1' }).crlPartitions).toBe(1);
    expect(loadConfig({ CHANCERY_CRL_PARTITIONS: '4096' }).crlPartitions).toBe(4096);
    expect(loadConfig({ CHANCERY_CRL_PARTITIONS: '8' }, { crlPartitions: '256' }).crlPartitions).toBe(256);
    const error = await expectCode(() => loadConfig({}, { crlPartitions: 'many' }), 'ERR_CONFIG_INVALID');
    expect(error.message).toMatch(/^--crl-partitions: "many" is not a CRL partition count/);
  });

  it('never echoes the passphrase it refuses', async () => {
    const error = await expectCode(() => loadConfig({ CHANCERY_KEY_PASSPHRASE: 'hunter2' }), 'ERR_CONFIG_INVALID');
    expect(error.message).not.toContain('hunter2');
  });

  it('redacts the password of a database URL', () => {
    expect(redactDatabaseUrl('postgres://app:s3cret@db:5432/chancery')).toBe('postgres://app:***@db:5432/chancery');
    expect(redactDatabaseUrl('postgres://db/chancery')).toBe('postgres://db/chancery');
  });
});
