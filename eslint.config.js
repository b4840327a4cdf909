import { configApp } from '@adonisjs/eslint-config'

/**
 * Actions and services hold Quad's business logic and are called by web
 * controllers, ace commands, the terminal gateway and the worker alike, so
 * they must never depend on HTTP.
 */
const httpBoundary = {
  files: ['app/*/actions/**/*.ts', 'app/*/services/**/*.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: [
          { name: '@adonisjs/core/http', message: 'Actions and services never see HTTP: take plain data.' },
        ],
        patterns: [
          { group: ['**/controllers/**', '#*/controllers/*'], message: 'Actions and services never import controllers.' },
          { group: ['**/middleware/**', '#*/middleware/*', '#*/http/*'], message: 'Actions and services never import HTTP adapters.' },
        ],
      },
    ],
  },
}

// Tests read best as `(await client.get(url)).status`.
const tests = {
  files: ['tests/**/*.ts'],
  rules: { '@unicorn/no-await-expression-member': 'off' },
}

export default configApp(
  { ignores: ['build/**', '.runtime/**', 'storage/**', 'tmp/**', 'public/**', 'node_modules/**'] },
  httpBoundary,
  tests
)
