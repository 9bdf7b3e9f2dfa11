import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { registerAudit } from './commands/audit.js';
import { registerChain } from './commands/chain.js';
import { registerCountersign } from './commands/countersign.js';
import { registerDemo } from './commands/demo.js';
import { registerCert } from './commands/cert.js';
import { registerCsr } from './commands/csr.js';
import { registerEnterprise } from './commands/enterprise.js';
import { registerInit } from './commands/init.js';
import { registerKeygen } from './commands/keygen.js';
import { registerOfficer } from './commands/officer.js';
import { registerServe } from './commands/serve.js';
import { registerSign } from './commands/sign.js';
import { registerStatus } from './commands/status.js';
import { registerSubmit } from './commands/submit.js';
import { registerVerify } from './commands/verify.js';
import { EXIT } from './run.js';
import type { CliServices } from './services.js';

/**
 * The `chancery` program. Each command lives in its own file under commands/; the commands that
 * need the composed application get it as `services`.
 */
export function buildProgram(services: CliServices): Command {
  const program = new Command('chancery')
    .description('Chancery: certificates, signature verification, countersigning and a verifiable audit log')
    .version(VERSION, '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  registerServe(program, services);
  registerInit(program, services);
  registerKeygen(program);
  registerCsr(program);
  registerEnterprise(program, services.openDirectAdmin);
  registerOfficer(program, services.openDirectAdmin);
  registerCert(program, services.openDirectAdmin);
  registerChain(program);
  registerVerify(program);
  registerAudit(program);
  registerSign(program);
  registerCountersign(program);
  registerSubmit(program);
  registerStatus(program);
  registerDemo(program, services);
  return program;
}

/** Runs the program on `argv`, setting process.exitCode. */
export async function runCli(argv: string[], services: CliServices): Promise<void> {
  const program = buildProgram(services);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors with 64.
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    throw error;
  }
}

