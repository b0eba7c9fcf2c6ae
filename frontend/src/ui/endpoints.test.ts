import { describe, expect, it } from 'vitest'
import { chatEndpoints } from './endpoints'

const page = (protocol: string, hostname: string, port: string) => ({
  protocol,
  hostname,
  port,
  host: port ? `${hostname}:${port}` : hostname,
})

describe('chatEndpoints', () => {
  it('uses the page origin in production', () => {
    expect(chatEndpoints(page('https:', 'chat.example', ''), { DEV: false })).toEqual({
      httpBase: '',
      socketUrl: 'wss://chat.example/ws/',
    })
    expect(chatEndpoints(page('http:', '127.0.0.1', '8123'), { DEV: false })).toEqual({
      httpBase: '',
      socketUrl: 'ws://127.0.0.1:8123/ws/',
    })
  })
  it('talks to Daphne on :8000 from the Vite dev server', () => {
    expect(chatEndpoints(page('http:', 'localhost', '5173'), { DEV: true })).toEqual({
      httpBase: 'http://localhost:8000',
      socketUrl: 'ws://localhost:8000/ws/',
    })
  })
  it('follows VITE_HTTP_BASE when set', () => {
    expect(
      chatEndpoints(page('http:', 'localhost', '5173'), { DEV: true, VITE_HTTP_BASE: 'https://api.example/' }),
    ).toEqual({ httpBase: 'https://api.example', socketUrl: 'wss://api.example/ws/' })
  })
})
