import type { HttpContext } from '@adonisjs/core/http'
import db from '@adonisjs/lucid/services/db'

export default class DashboardController {
  async show({ view, bouncer }: HttpContext) {
    await bouncer.authorize('permit', 'console.access')
    return view.render('pages/core/dashboard', { database: db.primaryConnectionName })
  }
}
