// The browser app's entry: one data-layer client for the tab, the URL store, React.
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { createChatClient } from './lib'
import { App } from './ui/App'
import { chatEndpoints } from './ui/endpoints'
import { Notifier } from './ui/notifier'
import { createRouteStore } from './ui/route'
import './styles/app.css'

const client = createChatClient(
  chatEndpoints(window.location, {
    DEV: import.meta.env.DEV,
    VITE_HTTP_BASE: import.meta.env.VITE_HTTP_BASE as string | undefined,
  }),
)
const route = createRouteStore(window)
const notifier = new Notifier(client, (room) => route.navigate(room))

let container = document.getElementById('root')
if (!container) {
  container = document.createElement('div')
  container.id = 'root'
  document.body.append(container)
}

createRoot(container).render(
  <StrictMode>
    <App services={{ client, route, notifier }} />
  </StrictMode>,
)

void client.start()

if (import.meta.hot) {
  import.meta.hot.dispose(() => {
    notifier.dispose()
    client.dispose()
    route.dispose()
  })
}
