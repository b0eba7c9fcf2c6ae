// The HTTP session: the only calls the app makes outside the socket. The server
// may sit on another origin (Vite's dev server on :5173, Daphne on :8000), so
// every call carries credentials, and writes carry Django's CSRF token.
import type { ChatEnv } from './env'
import { ApiError, type User } from './types'

type Env = Pick<ChatEnv, 'fetch' | 'cookies'>

export function readCookie(cookies: string, name: string): string | null {
  for (const part of cookies.split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) return decodeURIComponent(rest.join('='))
  }
  return null
}

export class SessionApi {
  constructor(private readonly httpBase: string, private readonly env: Env) {}

  /** The logged-in user, or null; also makes the server set the csrftoken cookie. */
  async current(): Promise<User | null> {
    const body = await this.call('GET', '/api/session')
    return userOf(body)
  }

  async login(username: string, password: string): Promise<User> {
    return requireUser(await this.call('POST', '/api/session', { username, password }))
  }

  async signup(username: string, password: string): Promise<User> {
    return requireUser(await this.call('POST', '/api/users', { username, password }))
  }

  async logout(): Promise<void> {
    await this.call('DELETE', '/api/session')
  }

  /** Django's CSRF token, fetched (GET /api/session sets the cookie) when the page has none yet. */
  async csrfToken(): Promise<string | null> {
    const token = readCookie(this.env.cookies(), 'csrftoken')
    if (token) return token
    await this.call('GET', '/api/session')
    return readCookie(this.env.cookies(), 'csrftoken')
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    if (method !== 'GET') {
      const token = await this.csrfToken()
      if (token) headers['X-CSRFToken'] = token
    }
    let response: Response
    try {
      response = await this.env.fetch(`${this.httpBase}${path}`, {
        method,
        headers,
        credentials: 'include',
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    } catch {
      throw new ApiError('Cannot reach the server', 0)
    }
    const text = await response.text()
    let parsed: unknown
    try {
      parsed = text ? JSON.parse(text) : null
    } catch {
      parsed = null // an HTML error page from a proxy: the status speaks for it
    }
    if (!response.ok) throw errorOf(parsed, response.status)
    return parsed
  }
}

function userOf(body: unknown): User | null {
  const user = (body as { user?: unknown } | null)?.user
  if (typeof user !== 'object' || user === null) return null
  const { id, username, is_staff: isStaff } = user as Record<string, unknown>
  if (typeof id !== 'number' || typeof username !== 'string') return null
  return isStaff === true ? { id, username, is_staff: true } : { id, username }
}

function requireUser(body: unknown): User {
  const user = userOf(body)
  if (!user) throw new ApiError('The server sent no user', 500)
  return user
}

export function errorOf(body: unknown, status: number): ApiError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const message =
    typeof b.error === 'string' && b.error ? b.error
    : status === 403 ? 'Refused by the server (CSRF), reload the page'
    : `The server answered ${status}`
  const fields: Record<string, string[]> = {}
  if (typeof b.fields === 'object' && b.fields !== null) {
    for (const [name, value] of Object.entries(b.fields as Record<string, unknown>)) {
      if (Array.isArray(value)) fields[name] = value.map(String)
      else if (typeof value === 'string') fields[name] = [value]
    }
  }
  return new ApiError(message, status, fields)
}
