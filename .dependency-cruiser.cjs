/**
 * The architecture, enforced on every `npm test` (npm run lint:deps):
 *
 *   transports (src/http, src/cli, src/web)  →  parts  →  verify / crypto / der
 *   src/app, the composition root, sees everything; nothing imports it.
 */
const PARTS = '^src/(audit|auth|batch|ca|crypto|db|der|policy|registry|sign|submissions|tsa|verify)(/|\\.ts$)';
const TRANSPORTS = '^src/(http|cli|web|client|app)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'parts-know-no-transport',
      comment: 'A part is built and tested without HTTP, the CLI, web pages, clients or the composition root.',
      severity: 'error',
      from: { path: PARTS },
      to: { path: TRANSPORTS },
    },
    {
      name: 'parts-know-no-web-framework',
      comment: 'Domain code never imports express; only src/http does.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(http|web|app)/' },
      to: { path: 'node_modules/(express|body-parser)/' },
    },
    {
      name: 'only-db-knows-the-drivers',
      comment: 'The database drivers are reached only through src/db.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/db/' },
      to: { path: 'node_modules/(pg|pg-pool|@electric-sql/pglite)/' },
    },
    {
      name: 'verify-is-pure',
      comment: 'The verifier imports only crypto, der, policy, oids, the bare error class and its own files.',
      severity: 'error',
      from: { path: '^src/verify/' },
      to: { path: '^src/', pathNot: '^src/(verify|crypto|der|policy)/|^src/(oids|errors)\\.ts$' },
    },
    {
      name: 'nothing-imports-the-composition-root',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/app/' },
      to: { path: '^src/app/' },
    },
    {
      name: 'transports-are-separate',
      comment: 'HTTP, CLI and web pages do not call each other.',
      severity: 'error',
      from: { path: '^src/(http|cli|web)/' },
      to: { path: '^src/(http|cli|web)/', pathNot: '^src/$1/' },
    },
    {
      name: 'clients-are-not-transports',
      comment: 'src/client speaks HTTP to a running service, for the CLI and tools; it uses no transport itself.',
      severity: 'error',
      from: { path: '^src/client/' },
      to: { path: '^src/(http|cli|web)/' },
    },
    {
      name: 'the-server-does-not-call-itself',
      comment: 'The HTTP API and web pages call the parts directly, never the HTTP clients.',
      severity: 'error',
      from: { path: '^src/(http|web)/' },
      to: { path: '^src/client/' },
    },
    {
      name: 'one-crypto-seam',
      comment: 'Only src/crypto touches node:crypto at run time (type imports such as KeyObject are fine).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/crypto/' },
      to: { path: '^(node:)?crypto$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
    moduleSystems: ['es6'],
  },
};
