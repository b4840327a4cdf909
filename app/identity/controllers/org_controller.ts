import type { HttpContext } from '@adonisjs/core/http'
import { loadOrgTree } from '#identity/services/org_tree'

export default class OrgController {
  /** The organization tree with the number of people in each unit and below it. */
  async index({ view, bouncer }: HttpContext) {
    await bouncer.authorize('permit', 'people.read')
    const roots = await loadOrgTree()
    return view.render('pages/identity/org/index', { roots })
  }
}
