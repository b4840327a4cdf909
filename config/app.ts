import env from '#start/env'
import { defineConfig } from '@adonisjs/core/http'
import { tlsEnabled } from '#appliance/services/https_server'

export const appUrl = env.get('APP_URL', `https://localhost:${env.get('PORT', 8443)}`)

export const http = defineConfig({
  generateRequestId: true,
  allowMethodSpoofing: true,
  useAsyncLocalStorage: false,
  // The appliance sits behind no proxy by default; trust loopback only so that
  // X-Forwarded-For from a client cannot fake the address written in the audit log.
  trustProxy: (address: string) => address === '127.0.0.1' || address === '::1',
  cookie: {
    domain: '',
    path: '/',
    maxAge: '2h',
    httpOnly: true,
    secure: tlsEnabled(),
    sameSite: 'lax',
  },
})
