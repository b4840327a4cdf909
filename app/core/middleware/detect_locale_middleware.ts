import { I18n } from '@adonisjs/i18n'
import i18nManager from '@adonisjs/i18n/services/main'
import type { NextFn } from '@adonisjs/core/types/http'
import { type HttpContext, RequestValidator } from '@adonisjs/core/http'
import { currentSchool } from '#appliance/services/school_settings'

export const LOCALE_COOKIE = 'quad_locale'

/**
 * Picks the language of the response: the choice made with the language
 * switch, else the signed-in user's setting, else the school default chosen
 * at setup, else the browser's Accept-Language, else zh-CN.
 */
export default class DetectLocaleMiddleware {
  static {
    RequestValidator.messagesProvider = (ctx) => ctx.i18n.createMessagesProvider()
  }

  protected async locale(ctx: HttpContext): Promise<string> {
    const chosen = ctx.request.plainCookie(LOCALE_COOKIE, { encoded: false })
    if (chosen && i18nManager.supportedLocales().includes(chosen)) return chosen
    const own = ctx.auth.user?.locale
    if (own) return own
    const school = await currentSchool()
    if (school) return school.defaultLocale
    return i18nManager.getSupportedLocaleFor(ctx.request.languages()) ?? i18nManager.defaultLocale
  }

  async handle(ctx: HttpContext, next: NextFn) {
    ctx.i18n = i18nManager.locale(await this.locale(ctx))
    ctx.containerResolver.bindValue(I18n, ctx.i18n)
    if ('view' in ctx) ctx.view.share({ i18n: ctx.i18n, school: await currentSchool() })
    return next()
  }
}

declare module '@adonisjs/core/http' {
  export interface HttpContext {
    i18n: I18n
  }
}
