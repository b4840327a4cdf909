import type { HttpContext } from '@adonisjs/core/http'
import { backupOverview } from '#appliance/services/backup_overview'

/** The System page: the state of backups, for operators and auditors. */
export default class SystemController {
  async index({ view, bouncer }: HttpContext) {
    await bouncer.authorize('permit', 'system.read')
    return view.render('pages/appliance/system/index', { backups: backupOverview() })
  }
}
