/*
 * Money reports and settlement (docs/reports.md): the portal's wallet page,
 * the mobile merchant report, settlement statements and payouts, and the
 * finance reports in the console.
 */
import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { addNavEntry } from '#core/services/navigation'
import { addPortalTile } from '#identity/services/portal_home'
import '#ledger/services/ledger_view'
// The portal registers a placeholder balance tile; loading it first lets the
// tile below replace it whatever the import order.
import '#identity/portal_routes'

const PortalWalletController = () => import('#reports/controllers/portal_wallet_controller')
const MerchantReportController = () => import('#reports/controllers/merchant_report_controller')
const SettlementsController = () => import('#reports/controllers/settlements_controller')
const FinanceReportsController = () => import('#reports/controllers/finance_reports_controller')

const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$/

addPortalTile({
  id: 'balance',
  label: 'portal.tiles.balance',
  icon: 'money',
  href: '/portal/wallet',
  order: 20,
  summary: async (person) => {
    const { walletTotal } = await import('#reports/services/wallet_report')
    const { formatFen } = await import('#ledger/services/money')
    return {
      key: 'reports.wallet.tile_summary',
      data: { amount: formatFen(await walletTotal(person.id)) },
    }
  },
})

addNavEntry({
  label: 'reports.nav.finance',
  href: '/console/reports',
  icon: 'money',
  permission: 'finance.reports',
  order: 27,
})

addNavEntry({
  label: 'reports.nav.settlements',
  href: '/console/settlements',
  icon: 'money',
  permission: 'finance.reports',
  order: 28,
})

router
  .group(() => {
    router.get('/wallet', [PortalWalletController, 'show']).as('portal.wallet')
  })
  .prefix('/portal')
  .use(middleware.portalAuth())

router
  .get('/merchant-report/:token', [MerchantReportController, 'show'])
  .where('token', /^[\w-]{1,64}$/)
  .as('reports.merchant_report')

router
  .group(() => {
    router.get('/reports', [FinanceReportsController, 'index']).as('reports.finance')
    router.get('/reports/export', [FinanceReportsController, 'export']).as('reports.export')
    router.get('/settlements', [SettlementsController, 'index']).as('reports.settlements')
    router.post('/settlements/generate', [SettlementsController, 'generate'])
    router.get('/settlements/links', [SettlementsController, 'links']).as('reports.links')
    router
      .post('/settlements/links/:publicId', [SettlementsController, 'rotateLink'])
      .where('publicId', PUBLIC_ID)
    router
      .get('/settlements/:publicId', [SettlementsController, 'show'])
      .where('publicId', PUBLIC_ID)
      .as('reports.statement')
    router
      .post('/settlements/:publicId/confirm', [SettlementsController, 'confirm'])
      .where('publicId', PUBLIC_ID)
    router
      .post('/settlements/:publicId/payout', [SettlementsController, 'payout'])
      .where('publicId', PUBLIC_ID)
  })
  .prefix('/console')
  .use(middleware.auth())
