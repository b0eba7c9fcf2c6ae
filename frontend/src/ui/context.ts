import { createContext, useContext } from 'react'
import type { ChatClient } from '../lib'
import type { Notifier } from './notifier'
import type { RouteStore } from './route'

export interface AppServices {
  client: ChatClient
  route: RouteStore
  notifier: Notifier
}

export const ServicesContext = createContext<AppServices | null>(null)

export function useServices(): AppServices {
  const services = useContext(ServicesContext)
  if (!services) throw new Error('useServices outside <ServicesContext>')
  return services
}
