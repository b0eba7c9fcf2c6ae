import { describe, expect, it } from 'vitest'
import { SessionApi, readCookie } from './api'
import { fakeFetch } from './testing/fakes'
import { ApiError } from './types'

const user = { id: 4, username: 'dora' }

describe('SessionApi', () => {
  it('reads the session across origins with credentials', async () => {
    const calls: { url: string; init: RequestInit }[] = []
    const api = new SessionApi('http://localhost:8000', {
      fetch: fakeFetch({ 'GET /api/session': { status: 200, body: { user: null } } }, calls),
      cookies: () => '',
    })
    await expect(api.current()).resolves.toBeNull()
    expect(calls[0]!.url).toBe('http://localhost:8000/api/session')
    expect(calls[0]!.init.credentials).toBe('include')
  })

  it('sends the CSRF token from the cookie with JSON bodies', async () => {
    const calls: { url: string; init: RequestInit }[] = []
    const api = new SessionApi('', {
      fetch: fakeFetch({ 'POST /api/session': { status: 200, body: { user } } }, calls),
      cookies: () => 'other=1; csrftoken=abc%3D; x=2',
    })
    await expect(api.login('dora', 'pw')).resolves.toEqual(user)
    const headers = calls[0]!.init.headers as Record<string, string>
    expect(headers['X-CSRFToken']).toBe('abc=')
    expect(headers['Content-Type']).toBe('application/json')
    expect(JSON.parse(calls[0]!.init.body as string)).toEqual({ username: 'dora', password: 'pw' })
  })

  it('gets the cookie first when it is missing', async () => {
    const calls: { url: string; init: RequestInit }[] = []
    let cookie = ''
    const table = fakeFetch({
      'GET /api/session': { status: 200, body: { user: null } },
      'POST /api/users': { status: 201, body: { user } },
    }, calls)
    const api = new SessionApi('', {
      fetch: (async (input: string, init?: RequestInit) => {
        const response = await table(input, init)
        if ((init?.method ?? 'GET') === 'GET') cookie = 'csrftoken=fresh'
        return response
      }) as typeof fetch,
      cookies: () => cookie,
    })
    await api.signup('dora', 'pw')
    expect(calls.map((c) => c.init.method ?? 'GET')).toEqual(['GET', 'POST'])
    expect((calls[1]!.init.headers as Record<string, string>)['X-CSRFToken']).toBe('fresh')
  })

  it('turns an error answer into ApiError with the text, status and fields', async () => {
    const api = new SessionApi('', {
      fetch: fakeFetch({
        'POST /api/users': { status: 400, body: { error: 'This password is too short.', fields: { password: ['This password is too short.'] } } },
        'POST /api/session': { status: 400, body: { error: 'Wrong username or password' } },
        'DELETE /api/session': { status: 500 },
      }),
      cookies: () => 'csrftoken=t',
    })
    const signup = await api.signup('d', 'x').catch((e: unknown) => e)
    expect(signup).toBeInstanceOf(ApiError)
    expect(signup).toMatchObject({ message: 'This password is too short.', status: 400, fields: { password: ['This password is too short.'] } })
    await expect(api.login('d', 'x')).rejects.toMatchObject({ message: 'Wrong username or password', status: 400 })
    await expect(api.logout()).rejects.toMatchObject({ status: 500 })
  })

  it('a network failure is an ApiError too', async () => {
    const api = new SessionApi('', { fetch: fakeFetch({}), cookies: () => 'csrftoken=t' })
    await expect(api.current()).rejects.toMatchObject({ name: 'ApiError', status: 0 })
  })

  it('reads one cookie among many', () => {
    expect(readCookie('a=1; csrftoken=xyz', 'csrftoken')).toBe('xyz')
    expect(readCookie('a=1', 'csrftoken')).toBeNull()
  })
})
