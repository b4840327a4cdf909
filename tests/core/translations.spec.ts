import test from 'ava'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const LANG = new URL('../../resources/lang/', import.meta.url).pathname
const VIEWS = new URL('../../resources/views/', import.meta.url).pathname

function flatten(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix]
  return Object.entries(value).flatMap(([key, inner]) =>
    flatten(inner, prefix ? `${prefix}.${key}` : key)
  )
}

function keysOf(locale: string): Set<string> {
  const keys = new Set<string>()
  for (const file of readdirSync(join(LANG, locale))) {
    const namespace = file.replace(/\.json$/, '')
    const content = JSON.parse(readFileSync(join(LANG, locale, file), 'utf8'))
    for (const key of flatten(content)) keys.add(`${namespace}.${key}`)
  }
  return keys
}

function viewFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? viewFiles(join(dir, entry.name))
      : entry.name.endsWith('.edge')
        ? [join(dir, entry.name)]
        : []
  )
}

test('Chinese and English have exactly the same messages', (t) => {
  const zh = keysOf('zh-CN')
  const en = keysOf('en')
  t.deepEqual(
    [...zh].filter((key) => !en.has(key)),
    [],
    'keys missing in English'
  )
  t.deepEqual(
    [...en].filter((key) => !zh.has(key)),
    [],
    'keys missing in Chinese'
  )
})

test('every literal message key used by a page exists', (t) => {
  const zh = keysOf('zh-CN')
  const missing: string[] = []
  let checked = 0
  for (const file of viewFiles(VIEWS)) {
    const source = readFileSync(file, 'utf8')
    for (const match of source.matchAll(/\bt\(\s*'([a-z_]+\.[A-Za-z0-9_.]+)'/g)) {
      checked += 1
      // Keys that end in a dot are completed at run time (e.g. 'core.roles.' + role).
      if (!match[1].endsWith('.') && !zh.has(match[1]))
        missing.push(`${file.replace(VIEWS, '')}: ${match[1]}`)
    }
  }
  t.deepEqual(missing, [])
  t.true(checked > 100, `only ${checked} keys found: the pattern no longer matches the pages`)
})
