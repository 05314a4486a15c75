// ESLint (flat config): typescript-eslint's type-aware rules over every TypeScript folder.
// Formatting is Prettier's job (eslint-config-prettier turns off the rules that overlap);
// which layer may import which is checked by dependency-cruiser (.dependency-cruiser.cjs).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'dist.building-*/', 'src/generated/', 'coverage/', 'bench/out/', '**/golden/', 'clients/python/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      'no-console': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // Methods that implement a Promise-returning contract (QueryEngine.close, Apollo hooks) need not await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests read GraphQL and JSON answers, which are untyped by nature; they assert their shape
    // with expect() instead of casting every level.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // The workbench's browser code (bundled by src/workbench/build.ts) runs in the page, not in Node.
    files: ['src/workbench/client/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Benchmarks print their tables: the console is their output.
    files: ['bench/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // Plain JavaScript entry points (bin, worker bootstrap, config files) are not type-checked.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
