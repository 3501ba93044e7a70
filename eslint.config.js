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
      // Only the Electron shell (src/main/index.ts, src/main/ipc.ts, src/main/shell/) and the preload may import electron.
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'electron is imported only by the shell (src/main/index.ts, src/main/ipc.ts, src/main/shell/) and the preload.' }] }],
    },
  },
  {
    files: ['src/main/index.ts', 'src/main/ipc.ts', 'src/main/shell/**/*.ts', 'src/preload/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
