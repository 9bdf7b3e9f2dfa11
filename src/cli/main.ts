import { setFlagsFromString } from 'node:v8';
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { EXIT } from './run.js';
import type { CliServices } from './services.js';

type Register = (program: Command, services: CliServices) => void;

/**
 * The top-level commands, in the order `chancery --help` lists them, each with the module under
 * commands/ that defines it. Modules are imported only when wanted: between them they load the
 * whole application (PGlite, express, the CA, the verifier), which cost every command ~0.3 s of
 * start-up before it did anything.
 */
const COMMANDS: ReadonlyArray<readonly [name: string, load: () => Promise<Register>]> = [
  ['serve', async () => (await import('./commands/serve.js')).registerServe],
  ['init', async () => (await import('./commands/init.js')).registerInit],
  ['keygen', async () => (await import('./commands/keygen.js')).registerKeygen],
  ['csr', async () => (await import('./commands/csr.js')).registerCsr],
  [
    'enterprise',
    async () => {
      const { registerEnterprise } = await import('./commands/enterprise.js');
      return (p, s) => registerEnterprise(p, s.openDirectAdmin);
    },
  ],
  [
    'officer',
    async () => {
      const { registerOfficer } = await import('./commands/officer.js');
      return (p, s) => registerOfficer(p, s.openDirectAdmin);
    },
  ],
  [
    'cert',
    async () => {
      const { registerCert } = await import('./commands/cert.js');
      return (p, s) => registerCert(p, s.openDirectAdmin);
    },
  ],
  ['chain', async () => (await import('./commands/chain.js')).registerChain],
  ['verify', async () => (await import('./commands/verify.js')).registerVerify],
  ['audit', async () => (await import('./commands/audit.js')).registerAudit],
  ['sign', async () => (await import('./commands/sign.js')).registerSign],
  ['sample', async () => (await import('./commands/sample.js')).registerSample],
  ['countersign', async () => (await import('./commands/countersign.js')).registerCountersign],
  ['submit', async () => (await import('./commands/submit.js')).registerSubmit],
  ['status', async () => (await import('./commands/status.js')).registerStatus],
  ['demo', async () => (await import('./commands/demo.js')).registerDemo],
];

/**
 * The `chancery` program. Each command lives in its own file under commands/; the commands that
 * need the composed application get it as `services`. With `only`, just the top-level commands
 * named there are defined; by default all of them.
 */
export async function buildProgram(services: CliServices, only?: readonly string[]): Promise<Command> {
  const program = new Command('chancery')
    .description('Chancery: certificates, signature verification, countersigning and a verifiable audit log')
    .version(VERSION, '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  const wanted = COMMANDS.filter(([name]) => only === undefined || only.includes(name));
  for (const register of await Promise.all(wanted.map(([, load]) => load()))) register(program, services);
  return program;
}

/**
 * The commands an invocation needs: none to print the version, only its own for a command, and
 * all for anything else (the program's help, `help`, the suggestions after an unknown command).
 */
function commandsFor(first: string | undefined): readonly string[] | undefined {
  if (first === '-V' || first === '--version') return [];
  return COMMANDS.some(([name]) => name === first) ? [first!] : undefined;
}

/** Runs the program on `argv`, setting process.exitCode. */
export async function runCli(argv: string[], services: CliServices): Promise<void> {
  // The embedded database is PostgreSQL compiled to WebAssembly. V8 recompiles its hot functions
  // with its optimizing compiler on background threads: worth it in a server, but a command that
  // opens the database once is over before that pays back, after ~0.5 s more CPU (and waits for
  // those threads at exit). A budget no function of a short command uses up keeps them baseline
  // code (unlike --liftoff-only, code the baseline compiler cannot take still gets compiled).
  // Set before any command module loads, so before PGlite compiles.
  if (argv[2] !== 'serve') setFlagsFromString('--wasm-tiering-budget=2000000000');
  const program = await buildProgram(services, commandsFor(argv[2]));
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
