// axe-core, run inside the page: the accessibility rules a screen reader user
// depends on. Evaluated through the DevTools protocol, so the page's
// Content-Security-Policy (no inline script) does not stop it.
import axe from 'axe-core'
import type { Page } from 'playwright-core'

/** Each violation as "rule-id: help (selectors)"; empty when the page passes. */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(axe.source)
  const results = await page.evaluate(() =>
    (window as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ['violations'] }),
  )
  return results.violations.map(
    (violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`,
  )
}
