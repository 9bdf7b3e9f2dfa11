import 'reflect-metadata';
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

/** The `chancery` program. Each command lives in its own file under commands/. */
export function buildProgram(): Command {
  const program = new Command('chancery')
    .description('Chancery: certificates, signature verification, countersigning and a verifiable audit log')
    .version(VERSION, '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  registerServe(program);
  registerInit(program);
  registerKeygen(program);
  registerCsr(program);
  registerEnterprise(program);
  registerOfficer(program);
  registerCert(program);
  registerChain(program);
  registerVerify(program);
  registerAudit(program);
  registerSign(program);
  registerCountersign(program);
  registerSubmit(program);
  registerStatus(program);
  registerDemo(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
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

await main(process.argv);
