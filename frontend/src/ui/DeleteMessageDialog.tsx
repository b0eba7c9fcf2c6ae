import { Dialog } from './Dialog'

/** Asks before a message is deleted for everyone, which cannot be undone. */
export function DeleteMessageDialog({ onConfirm, onClose }: { onConfirm(): void; onClose(): void }) {
  return (
    <Dialog title="Delete message" onClose={onClose}>
      <p>Delete this message for everyone? This cannot be undone.</p>
      <div className="dialog-buttons">
        <button type="button" className="small-button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary danger" autoFocus onClick={onConfirm}>
          Delete
        </button>
      </div>
    </Dialog>
  )
}
