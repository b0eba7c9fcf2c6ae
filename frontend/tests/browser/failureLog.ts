// When a test fails, the tail of the shared server's log goes to the output:
// globalSetup deletes the server's temp dir at the end, and CI keeps only what
// was printed.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeEach, inject } from 'vitest'

const TAIL_LINES = 80

export function serverLogTail(varDir: string, lines = TAIL_LINES): string {
  return readdirSync(varDir)
    .filter((name) => name.startsWith('daphne-') && name.endsWith('.log'))
    .sort()
    .map((name) => {
      const tail = readFileSync(join(varDir, name), 'utf8').trimEnd().split('\n').slice(-lines)
      return `--- ${name}, last ${tail.length} lines ---\n${tail.join('\n')}`
    })
    .join('\n')
}

beforeEach(({ onTestFailed, task }) => {
  onTestFailed(() => {
    console.error(`The shared server's log when "${task.name}" failed:\n${serverLogTail(inject('varDir'))}`)
  })
})
