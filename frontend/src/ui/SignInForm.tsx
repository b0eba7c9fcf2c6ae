import { useId, useState, type FormEvent } from 'react'
import { ApiError } from '../lib'
import { useServices } from './context'

interface FormError {
  message: string
  fields: Record<string, string[]>
  /** Fields left empty: marked invalid, the first one focused. */
  missing?: string[]
}

const FIELD_LABELS: Record<string, string> = { username: 'Username', password: 'Password' }

/** What an empty form lacks, said before any request (the server says the same). */
export function missingCredentials(username: string, password: string): FormError | null {
  const missing = [username.trim() ? null : 'username', password ? null : 'password'].filter(
    (field): field is string => field !== null,
  )
  if (missing.length === 0) return null
  const message =
    missing.length === 2 ? 'Enter your username and password.' : `Enter your ${missing[0]}.`
  return { message, fields: {}, missing }
}

function toFormError(error: unknown): FormError {
  if (error instanceof ApiError) return { message: error.message, fields: error.fields }
  return { message: 'Could not reach the server. Check your connection and try again.', fields: {} }
}

export function SignInForm() {
  const { client } = useServices()
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<FormError | null>(null)
  const errorId = useId()

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    if (busy) return
    const submitter = (event.nativeEvent as SubmitEvent).submitter
    const action = submitter?.getAttribute('value') === 'signup' ? 'signup' : 'login'
    const missing = missingCredentials(username, password)
    if (missing) {
      setError(missing)
      event.currentTarget.querySelector<HTMLInputElement>(`input[name="${missing.missing?.[0]}"]`)?.focus()
      return
    }
    setBusy(true)
    setError(null)
    try {
      if (action === 'signup') await client.signup(username.trim(), password)
      else await client.login(username.trim(), password)
      // On success the session store flips and this form unmounts.
    } catch (caught) {
      setError(toFormError(caught))
      setBusy(false)
    }
  }

  const fieldEntries = error
    ? Object.entries(error.fields).filter(([, messages]) => messages.length > 0)
    : []
  const invalid = (field: string) =>
    error?.fields[field]?.length || error?.missing?.includes(field) ? true : undefined

  return (
    <main className="signin">
      <form className="signin-card" onSubmit={submit} aria-describedby={error ? errorId : undefined} noValidate>
        <h1 className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Chat
        </h1>
        <p className="signin-lead">Log in, or pick a username and password to sign up.</p>
        <label className="field">
          <span>Username</span>
          <input
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            value={username}
            aria-invalid={invalid('username')}
            onChange={(event) => setUsername(event.target.value)}
          />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            aria-invalid={invalid('password')}
            onChange={(event) => setPassword(event.target.value)}
          />
        </label>
        {error && (
          <div role="alert" id={errorId} className="form-error">
            <p>{error.message}</p>
            {fieldEntries.length > 0 && (
              <ul>
                {fieldEntries.flatMap(([field, messages]) =>
                  messages.map((text, index) => (
                    <li key={`${field}-${index}`}>
                      {FIELD_LABELS[field] ?? field}: {text}
                    </li>
                  )),
                )}
              </ul>
            )}
          </div>
        )}
        <div className="signin-actions">
          <button type="submit" name="action" value="login" className="primary" disabled={busy}>
            Log in
          </button>
          <button type="submit" name="action" value="signup" disabled={busy}>
            Sign up
          </button>
        </div>
      </form>
    </main>
  )
}
