import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The pure core never touches I/O, the clock or global randomness (ARCHITECTURE.md): enforce it here.
const adapterModules = [
  'node:fs',
  'node:fs/promises',
  'node:net',
  'node:http',
  'fs',
  'fs/promises',
  'better-sqlite3',
  'pg',
  'fastify',
  'nodemailer',
  'kysely',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/out/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/domain/**', 'src/profiles/core/**', 'src/decide/**', 'src/learn/**', 'src/sim/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: adapterModules.map((name) => ({
            name,
            message: 'The pure core does no I/O: use an adapter.',
          })),
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Take the time from a Clock passed in.' },
        { object: 'Math', property: 'random', message: 'Take randomness from a seeded Rng passed in.' },
      ],
    },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly' } },
  },
);
