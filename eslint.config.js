import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * The direction of dependencies (docs/architecture.md): protocol layers never import the command
 * layer, the front ends (cli, bridge), the composition (app), electron or the renderer; commands
 * never import the front ends; only the shell (src/main/index.ts) and bridge/ipc.ts import
 * electron; the renderer imports only src/shared. A test (test/lint/boundaries.test.ts) plants a
 * wrong-direction import and checks that this fails.
 */
const ELECTRON = { name: 'electron', message: 'electron is imported only by the shell (src/main/index.ts), src/main/bridge/ipc.ts and the preload.' };
const SQLITE = { name: 'better-sqlite3', message: 'only src/main/store opens the database: use the Store\'s operations.' };
/** The store owns its database: outside it, only its index (the Store and its operations) is imported. */
const STORE_INSIDES = { caseSensitive: true, regex: '(^|/)store/[^/]+$', message: 'import the store through its index (../store): its files and its database handle are its own.' };
const folder = (names) => `(^|/)(${names.join('|')})(/|$)`;
const restrict = (patterns) => ['error', { paths: [ELECTRON, SQLITE], patterns: [STORE_INSIDES, ...patterns] }];

const PROTOCOL_LAYERS = ['src/main/wpi/**', 'src/main/net/**', 'src/main/provisioning/**', 'src/main/pki/**', 'src/main/store/**', 'src/main/files/**'];
const PROTOCOL_RULE = [
  { caseSensitive: true, regex: folder(['commands', 'cli', 'bridge', 'app']), message: 'a protocol layer (wpi, net, provisioning, pki, store) never imports the commands, the front ends (cli, bridge) or the composition (app): dependencies point downwards.' },
  { caseSensitive: true, regex: folder(['renderer']), message: 'a protocol layer never imports the renderer.' },
];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'coverage/**', 'docs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-restricted-imports': restrict([]),
    },
  },
  {
    // Tests, benchmarks and scripts look at the database from outside, as another connection
    // would (integrity checks, planted faults, bulk fills); they still never import electron.
    files: ['test/**', 'bench/**', 'scripts/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [ELECTRON] }] },
  },
  {
    files: PROTOCOL_LAYERS,
    rules: { 'no-restricted-imports': restrict(PROTOCOL_RULE) },
  },
  {
    // Inside the store its own files and better-sqlite3 are fair game.
    files: ['src/main/store/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [ELECTRON], patterns: PROTOCOL_RULE }] },
  },
  {
    files: ['src/main/commands/**'],
    rules: {
      'no-restricted-imports': restrict([
        { caseSensitive: true, regex: folder(['cli', 'bridge']), message: 'commands never import a front end (cli, bridge): the front ends call the commands.' },
        { caseSensitive: true, regex: folder(['renderer']), message: 'the main process never imports the renderer.' },
      ]),
    },
  },
  {
    files: ['src/main/app/**'],
    rules: {
      'no-restricted-imports': restrict([
        { caseSensitive: true, regex: folder(['commands', 'cli', 'bridge']), message: 'the composition (app) never imports the commands or the front ends (cli, bridge): they are built on top of it.' },
        { caseSensitive: true, regex: folder(['renderer']), message: 'the main process never imports the renderer.' },
      ]),
    },
  },
  {
    files: ['src/main/cli/**', 'src/main/bridge/**'],
    rules: { 'no-restricted-imports': restrict([{ caseSensitive: true, regex: folder(['renderer']), message: 'the main process never imports the renderer: it talks to it over the API contract (src/shared/api.ts).' }]) },
  },
  {
    files: ['src/shared/**'],
    rules: { 'no-restricted-imports': restrict([{ caseSensitive: true, regex: folder(['main', 'renderer', 'phone', 'preload']), message: 'src/shared is the bottom layer: it imports nothing of the main process, the renderer or the simulator.' }]) },
  },
  {
    files: ['src/main/index.ts', 'src/main/bridge/ipc.ts', 'src/main/shell/**/*.ts', 'src/preload/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // The phone simulator stands in for real phones: it must not share the service's code (its
    // own WPI codec is src/phone/codec.ts), or a bug on one side is mirrored on the other.
    files: ['src/phone/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'the phone simulator runs without Electron.' }],
          patterns: [
            {
              group: ['**/main', '**/main/**', '**/src/main', '**/src/main/**'],
              message: 'src/phone must not import the service (src/main): the simulator has its own codec (src/phone/codec.ts) so a codec bug cannot hide on both sides.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportExpression[source.value=/(^|\\/)main(\\/|$)/]',
          message: 'src/phone must not load the service (src/main), not even with import().',
        },
      ],
    },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'no-restricted-imports': restrict([{ caseSensitive: true, regex: folder(['main', 'phone', 'preload']), message: 'the renderer imports only src/shared (the API contract and the schemas); it reaches the service through the API.' }]) },
  },
);
