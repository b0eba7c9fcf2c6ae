import { describe, expect, it } from 'vitest'
import { missingCredentials } from './SignInForm'

describe('missingCredentials', () => {
  it('names the field left empty, or both', () => {
    expect(missingCredentials('', 'secret')).toMatchObject({ message: 'Enter your username.', missing: ['username'] })
    expect(missingCredentials('alice', '')).toMatchObject({ message: 'Enter your password.', missing: ['password'] })
    expect(missingCredentials('', '')).toMatchObject({
      message: 'Enter your username and password.',
      missing: ['username', 'password'],
    })
  })

  it('counts a username of spaces as empty, but not a password of spaces', () => {
    expect(missingCredentials('   ', 'secret')?.missing).toEqual(['username'])
    expect(missingCredentials('alice', '   ')).toBeNull()
  })
})
