import type { HttpContext } from '@adonisjs/core/http'
import { Exception } from '@adonisjs/core/exceptions'
import { RerunJob } from '#appliance/actions/rerun_job'
import {
  displayPayload,
  findJob,
  jobCounts,
  JOB_STATUSES,
  listJobs,
  RERUNNABLE_STATUSES,
} from '#appliance/services/jobs'
import { jobFiltersValidator, jobIdValidator } from '#appliance/validators/jobs'
import { actorFrom } from '#core/http/actor'
import { pagerView } from '#core/http/pagination'

function notFound() {
  return new Exception('Job not found', { status: 404, code: 'E_NOT_FOUND' })
}

/** A URL's job id, or a 404 for anything that is not one. */
async function jobIdFrom(params: Record<string, unknown>): Promise<string> {
  const [error, data] = await jobIdValidator.tryValidate(params)
  if (error) throw notFound()
  return data.id
}

/** The jobs console: queue counts, the job list, one job, and re-running a job. */
export default class JobsController {
  async index({ request, view, bouncer }: HttpContext) {
    await bouncer.authorize('permit', 'jobs.read')
    // Blank form fields ("all statuses", empty search) mean no filter; a
    // hand-edited query string that does not validate shows the whole list.
    const query = Object.fromEntries(
      Object.entries(request.qs()).filter(([, value]) => value !== '' && value !== undefined)
    )
    const [, filters] = await jobFiltersValidator.tryValidate(query)
    const { status, q, page } = filters ?? {}
    const { paginator, jobs } = await listJobs({ status, search: q, page })
    return view.render('pages/appliance/jobs/index', {
      jobs,
      counts: await jobCounts(),
      statuses: JOB_STATUSES,
      filters: { status: status ?? '', q: q ?? '' },
      pager: pagerView(paginator, '/console/jobs', { status, q }),
    })
  }

  async show({ params, view, bouncer }: HttpContext) {
    await bouncer.authorize('permit', 'jobs.read')
    const job = await findJob(await jobIdFrom(params))
    if (!job) throw notFound()
    return view.render('pages/appliance/jobs/show', {
      job,
      payload: displayPayload(job.payload),
      rerunnable: RERUNNABLE_STATUSES.includes(job.status),
    })
  }

  async rerun(ctx: HttpContext) {
    const { params, bouncer, session, i18n, response } = ctx
    await bouncer.authorize('permit', 'jobs.manage')
    const id = await jobIdFrom(params)
    const result = await new RerunJob().handle(id, actorFrom(ctx))
    if (!result.ok) {
      if (result.error === 'not_found') throw notFound()
      session.flash('error', i18n.t('jobs.rerun.not_rerunnable'))
    } else {
      session.flash('notice', i18n.t('jobs.rerun.done'))
    }
    return response.redirect(`/console/jobs/${id}`)
  }
}
