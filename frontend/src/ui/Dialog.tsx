import { useEffect, useId, useRef, type ReactNode } from 'react'
import { createPortal } from 'react-dom'

/**
 * A modal `<dialog>` (showModal: the page behind is inert, Escape closes). The
 * app behind it is also marked aria-hidden, so assistive technology (and tests
 * that look things up by role) find only what the dialog holds; focus goes back
 * to where it was when the dialog closes.
 */
export function Dialog({ title, onClose, children }: { title: string; onClose(): void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()

  useEffect(() => {
    const dialog = ref.current
    if (!dialog) return
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
    const app = document.getElementById('root')
    app?.setAttribute('aria-hidden', 'true')
    app?.setAttribute('inert', '')
    if (!dialog.open) dialog.showModal()
    return () => {
      if (dialog.open) dialog.close()
      app?.removeAttribute('aria-hidden')
      app?.removeAttribute('inert')
      if (opener?.isConnected) opener.focus()
    }
  }, [])

  return createPortal(
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        // Escape: closed by React state, not by the browser behind its back.
        event.preventDefault()
        onClose()
      }}
    >
      <div className="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="icon-button dialog-close" aria-label="Close" onClick={() => onClose()}>
          <span aria-hidden="true">×</span>
        </button>
      </div>
      {children}
    </dialog>,
    document.body,
  )
}
