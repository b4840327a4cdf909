import { readFile, writeFile } from 'node:fs/promises'
import { isDeepStrictEqual } from 'node:util'
import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * Writes the campus-code test vectors (docs/campus-code-vectors.json) from
 * the library, or with --check reports whether the file still matches it.
 * Run it after any change to app/cards/campus_code that changes bytes.
 */
export default class CampusCodeVectors extends BaseCommand {
  static commandName = 'campus-code:vectors'
  static description = 'Write or check docs/campus-code-vectors.json, the campus-code test vectors'
  static options: CommandOptions = {}

  @flags.boolean({ description: 'Only compare the file with the library; exit 1 when it differs' })
  declare check?: boolean

  @flags.string({
    description: 'Path of the vectors file',
    default: 'docs/campus-code-vectors.json',
  })
  declare file: string

  async run() {
    const { buildVectors } = await import('#cards/campus_code/vectors')
    const path = this.app.makePath(this.file)
    const expected = JSON.stringify(await buildVectors(), null, 2) + '\n'
    if (!this.check) {
      await writeFile(path, expected)
      this.logger.success(`Wrote ${this.file}`)
      return
    }
    // Compared as data, so that reformatting the file (prettier) is not a difference.
    const actual = await readFile(path, 'utf8').catch(() => 'null')
    if (isDeepStrictEqual(JSON.parse(actual), JSON.parse(expected))) {
      this.logger.success(`${this.file} matches the library`)
      return
    }
    this.logger.error(`${this.file} differs from the library: run node ace campus-code:vectors`)
    this.exitCode = 1
  }
}
