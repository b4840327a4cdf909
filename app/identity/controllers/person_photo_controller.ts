import { existsSync } from 'node:fs'
import type { HttpContext } from '@adonisjs/core/http'
import { photoAbsolutePath, photoContentType } from '#identity/services/person_photos'
import { personFromParams } from '#identity/controllers/people_controller'
import PersonPolicy from '#identity/policies/person_policy'

export default class PersonPhotoController {
  /** A person's photo, from the storage root, to signed-in staff who may read the registry. */
  async show(ctx: HttpContext) {
    const { response, bouncer } = ctx
    await bouncer.authorize('permit', 'people.read')
    const person = await personFromParams(ctx.params)
    if (!person?.photoPath) return response.notFound()
    await bouncer.with(PersonPolicy).authorize('view', person)
    const path = photoAbsolutePath(person.photoPath)
    if (!existsSync(path)) return response.notFound()
    response.header('Content-Type', photoContentType(person.photoPath))
    response.header('Cache-Control', 'private, no-store')
    response.header('X-Content-Type-Options', 'nosniff')
    return response.download(path)
  }
}
