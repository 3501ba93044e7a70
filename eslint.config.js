import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'coverage/**', 'docs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // Only the Electron shell (src/main/index.ts, src/main/ipc.ts) and the preload may import electron.
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'electron is imported only by the shell (src/main/index.ts, src/main/ipc.ts) and the preload.' }] }],
    },
  },
  {
    files: ['src/main/index.ts', 'src/main/ipc.ts', 'src/preload/**/*.ts'],
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
  },
);
