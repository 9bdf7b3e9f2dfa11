import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { ConfigError } from './config.js';

/** Creates the data dir when missing and proves it is a writable directory, or names the fault. */
export function prepareDataDir(dataDir: string): void {
  if (existsSync(dataDir) && !statSync(dataDir).isDirectory()) {
    throw new ConfigError('ERR_CONFIG_DATA_DIR', `CHANCERY_DATA_DIR: ${dataDir} is not a directory`);
  }
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ConfigError(
      'ERR_CONFIG_DATA_DIR',
      `CHANCERY_DATA_DIR: cannot create ${dataDir} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  try {
    accessSync(dataDir, constants.W_OK | constants.R_OK | constants.X_OK);
  } catch {
    throw new ConfigError('ERR_CONFIG_DATA_DIR', `CHANCERY_DATA_DIR: ${dataDir} is not writable by this user`);
  }
}
