import { existsSync } from 'node:fs'
import type { HttpContext } from '@adonisjs/core/http'
import { ICON_FILE, iconAbsolutePath, iconContentType } from '#app_center/services/app_icons'

export default class AppIconsController {
  /**
   * An app's icon. Icons are not personal data and show on the sign-in and
   * consent pages too, so they need no session. Every upload gets a new
   * random name, so a response can be cached for good.
   */
  async show({ params, response }: HttpContext) {
    const file = String(params.file ?? '')
    if (!ICON_FILE.test(file)) return response.notFound()
    const relative = `apps/${file}`
    const path = iconAbsolutePath(relative)
    if (!existsSync(path)) return response.notFound()
    response.header('Content-Type', iconContentType(relative))
    response.header('Cache-Control', 'public, max-age=31536000, immutable')
    response.header('X-Content-Type-Options', 'nosniff')
    return response.download(path)
  }
}
