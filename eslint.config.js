// ESLint flat config: JavaScript and typescript-eslint recommended rules (not type-aware, so a
// lint run stays fast). Formatting belongs to prettier (`prettier --check .` in `npm run lint`).
import js from '@eslint/js';
import globals from 'globals';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    // assembly/ is AssemblyScript: decorators on functions (@inline) do not parse as TypeScript.
    ignores: ['node_modules/', 'build/', 'dist/', 'maps/', 'out/', 'test-artifacts/', 'assembly/'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    files: ['src/web/**', 'test/browser/**'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
  {
    // The library reports through src/log.ts; only the CLI prints to the terminal.
    files: ['src/**'],
    ignores: ['src/cli/**', 'src/log.ts'],
    rules: { 'no-console': 'error' },
  },
);
