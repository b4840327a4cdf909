import type { HttpContext } from '@adonisjs/core/http'
import { LOCALE_COOKIE } from '#core/middleware/detect_locale_middleware'

const LOCALES = ['zh-CN', 'en']

/** The language switch: remembers the choice in a cookie for a year. */
export default class LocaleController {
  async update({ params, request, response }: HttpContext) {
    const locale = String(params.locale)
    if (!LOCALES.includes(locale)) return response.badRequest('unsupported locale')
    response.plainCookie(LOCALE_COOKIE, locale, {
      maxAge: '365d',
      httpOnly: true,
      sameSite: 'lax',
      encode: false,
    })
    // Only a local path is a valid way back: never redirect to another site.
    const back = String(request.input('back', '/'))
    const safe =
      back.startsWith('/') && !back.startsWith('//') && !back.startsWith('/\\') ? back : '/'
    return response.redirect(safe)
  }
}
