import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths.js';

/** The built CLI entry (npm test builds dist/ before running the suite). */
export const CHANCERY_BIN = join(PROJECT_ROOT, 'bin', 'chancery.js');
/** The compiled sources, for child processes that call library functions directly. */
export const DIST_SRC = join(PROJECT_ROOT, 'dist', 'src');

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A child process with its output collected; `finished` settles when it exits. */
export interface Child {
  process: ChildProcess;
  stdout(): string;
  stderr(): string;
  finished: Promise<Finished>;
  /** Resolves when stdout+stderr contains `text` (rejects after `timeoutMs`). */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();

/** Kills every child a test started and did not reap (a failed test must not leave servers up). */
export function killStrayChildren(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

export function startChild(command: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Child {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  if (input !== undefined) child.stdin.end(input);
  else child.stdin.end();
  const finished = new Promise<Finished>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
  });
  const waitFor = (text: string | RegExp, timeoutMs = 60_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const deadline = setTimeout(
        () => reject(new Error(`timed out waiting for ${String(text)}; output so far:\n${out}\n${err}`)),
        timeoutMs,
      );
      const check = (): void => {
        const all = out + err;
        if (typeof text === 'string' ? all.includes(text) : text.test(all)) {
          clearTimeout(deadline);
          resolve();
        } else if (child.exitCode !== null || child.signalCode !== null) {
          clearTimeout(deadline);
          reject(new Error(`process exited before ${String(text)}; output:\n${out}\n${err}`));
        } else {
          waiters.push(check);
        }
      };
      check();
    });
  return { process: child, stdout: () => out, stderr: () => err, finished, waitFor };
}

/** Runs the `chancery` CLI to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<Finished> {
  return startChild(process.execPath, [CHANCERY_BIN, ...args], env, input).finished;
}

/** Runs an ES module script (as text) in a child Node process (short-lived: PGlite's WebAssembly unoptimized, as in the CLI). */
export function startScript(source: string, env: NodeJS.ProcessEnv = {}): Child {
  return startChild(process.execPath, ['--wasm-tiering-budget=2000000000', '--input-type=module', '-e', source], env);
}
