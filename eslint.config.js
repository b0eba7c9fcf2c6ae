// Flat ESLint config for the browser app: JavaScript and TypeScript recommended
// rules plus the Rules of React (hooks and the React Compiler checks).
import js from '@eslint/js'
import globals from 'globals'
import reactHooks from 'eslint-plugin-react-hooks'
import tseslint from 'typescript-eslint'
import { defineConfig, globalIgnores } from 'eslint/config'

export default defineConfig([
  globalIgnores(['frontend/dist/**']),
  {
    files: ['frontend/**/*.{ts,tsx,js}'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: {
      ecmaVersion: 2022,
      globals: globals.browser,
    },
    rules: {
      // `_name` marks a parameter that an interface requires but this code ignores.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['frontend/src/**/*.{ts,tsx}'],
    extends: [reactHooks.configs.flat.recommended],
  },
  {
    // The browser tests run in Node and drive Chromium from outside.
    files: ['frontend/tests/**/*.ts'],
    languageOptions: { globals: globals.node },
  },
])
