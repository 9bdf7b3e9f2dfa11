import { runCli } from '../cli/main.js';

/**
 * The `chancery` executable: the CLI transport given the composed application. Each service is
 * imported when its command runs, so `chancery keygen` or `chancery verify` never loads the
 * database drivers or the HTTP stack.
 */
await runCli(process.argv, {
  startService: async (config, logger) => (await import('./server.js')).startService(config, logger),
  initialize: async (config, logger, options) => (await import('./init.js')).initializeDataDir(config, logger, options),
  runDemo: async (options) => (await import('./demo.js')).runDemo(options),
  openDirectAdmin: async (dataDir, databaseUrl) => (await import('./direct-client.js')).DirectAdminClient.open(dataDir, databaseUrl),
});
