import { useState } from 'react'
import { requestProblem } from './problems'

/**
 * A dialog form whose submit sends one request: the check's problem, or the
 * request's failure, said in the form; busy while the request is out. Busy
 * stays on after success, as the dialog closes then.
 */
export function useDialogRequest() {
  const [problem, setProblem] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  async function submit(checked: string | null, request: () => Promise<void>) {
    setProblem(checked)
    if (checked) return
    setBusy(true)
    try {
      await request()
    } catch (error) {
      setProblem(requestProblem(error))
      setBusy(false)
    }
  }

  return { problem, busy, submit }
}

/** What went wrong, read out as it appears. */
export function FormProblem({ problem }: { problem: string | null }) {
  if (!problem) return null
  return (
    <p role="alert" className="form-error">
      {problem}
    </p>
  )
}

/** Cancel, and the form's submit button (disabled while its request is out). */
export function DialogFormActions({ label, busy, onCancel }: { label: string; busy: boolean; onCancel(): void }) {
  return (
    <div className="dialog-actions">
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" className="primary" disabled={busy}>
        {label}
      </button>
    </div>
  )
}
