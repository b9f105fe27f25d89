// Lint: typescript-eslint's recommended rules plus the project's own (STYLE.md rule 6: library
// code never prints or exits — only src/cli may).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/build/**', 'build/**', 'web/dist/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: {
      'no-console': ['error', { allow: ['warn'] }],
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Only src/cli may exit.' }],
    },
  },
  {
    // The browser UI bundles without Node: node:* modules there would only be stubs (vite.config.ts).
    files: ['src/web/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: 'src/web runs in the browser: no Node modules.' }] }],
    },
  },
);
