// Where the data layer finds the server. In production the page and the API share
// an origin; under the Vite dev server (port 5173) Daphne runs beside it on :8000.
import type { ChatClientOptions } from '../lib'

export const DEV_SERVER_PORT = '5173'
export const DEV_BACKEND_PORT = 8000

interface PageLocation {
  protocol: string
  hostname: string
  host: string
  port: string
}

export function chatEndpoints(
  page: PageLocation,
  env: { DEV: boolean; VITE_HTTP_BASE?: string },
): ChatClientOptions {
  const devServer = env.DEV && page.port === DEV_SERVER_PORT
  const httpBase =
    env.VITE_HTTP_BASE ?? (devServer ? `${page.protocol}//${page.hostname}:${DEV_BACKEND_PORT}` : '')
  const server = httpBase ? new URL(httpBase) : { protocol: page.protocol, host: page.host }
  const wsScheme = server.protocol === 'https:' ? 'wss:' : 'ws:'
  return { httpBase: httpBase.replace(/\/+$/, ''), socketUrl: `${wsScheme}//${server.host}/ws/` }
}
