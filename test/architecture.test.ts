import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/paths.js';

const run = promisify(execFile);
const DEPCRUISE = join(PROJECT_ROOT, 'node_modules', '.bin', 'depcruise');
const CONFIG = join(PROJECT_ROOT, '.dependency-cruiser.cjs');

/** The rules npm test enforces (npm run lint), applied to a small tree made here, break by break. */
describe('architecture rules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chancery-arch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const violations = async (files: Record<string, string>): Promise<string[]> => {
    rmSync(join(dir, 'src'), { recursive: true, force: true });
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }));
    const result = await run(DEPCRUISE, ['src', '--config', CONFIG, '--output-type', 'json'], { cwd: dir }).catch(
      (e: { stdout: string }) => e,
    );
    const report = JSON.parse(result.stdout) as { summary: { violations: Array<{ rule: { name: string } }> } };
    return report.summary.violations.map((v) => v.rule.name).sort();
  };

  it('passes a tree that keeps the arrows', async () => {
    expect(
      await violations({
        'src/ca/a.ts': "import { b } from '../verify/b.js';\nexport const a = b;\n",
        'src/verify/b.ts': 'export const b = 1;\n',
      }),
    ).toEqual([]);
  });

  it('refuses a part importing a transport or the composition root', async () => {
    expect(await violations({ 'src/ca/a.ts': "import '../http/h.js';\n", 'src/http/h.ts': 'export {};\n' })).toEqual([
      'parts-know-no-transport',
    ]);
    expect(await violations({ 'src/submissions/a.ts': "import '../app/x.js';\n", 'src/app/x.ts': 'export {};\n' })).toEqual([
      'nothing-imports-the-composition-root',
      'parts-know-no-transport',
    ]);
  });

  it('refuses a verifier that imports the CA, and an import cycle', async () => {
    expect(await violations({ 'src/verify/v.ts': "import '../ca/c.js';\n", 'src/ca/c.ts': 'export {};\n' })).toEqual(['verify-is-pure']);
    expect(await violations({ 'src/ca/a.ts': "import './b.js';\nexport {};\n", 'src/ca/b.ts': "import './a.js';\nexport {};\n" })).toEqual([
      'no-circular',
    ]);
  });

  it('refuses transports importing each other, and node:crypto outside src/crypto', async () => {
    expect(await violations({ 'src/http/h.ts': "import '../cli/c.js';\n", 'src/cli/c.ts': 'export {};\n' })).toEqual([
      'transports-are-separate',
    ]);
    expect(await violations({ 'src/ca/a.ts': "import { randomBytes } from 'node:crypto';\nexport const r = randomBytes;\n" })).toEqual([
      'one-crypto-seam',
    ]);
  });
});
