import { ServicesContext, type AppServices } from './context'
import { useStore } from './store'
import { SignInForm } from './SignInForm'
import { ChatScreen } from './ChatScreen'

export function App({ services }: { services: AppServices }) {
  return (
    <ServicesContext value={services}>
      <Screens services={services} />
    </ServicesContext>
  )
}

function Screens({ services }: { services: AppServices }) {
  const session = useStore(services.client.session)
  if (session.status === 'authenticated' && session.user) {
    // Keyed by user so nothing of one person's view survives into another's.
    return <ChatScreen key={session.user.id} user={session.user} />
  }
  if (session.status === 'anonymous') return <SignInForm />
  return (
    <main className="splash" aria-busy="true">
      <p>Loading…</p>
    </main>
  )
}
