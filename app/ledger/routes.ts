import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { addNavEntry } from '#core/services/navigation'
import '#ledger/services/ledger_view'
import '#ledger/wallet_routes'
import '#ledger/portal_routes'

const WalletsController = () => import('#ledger/controllers/wallets_controller')
const TopUpsController = () => import('#ledger/controllers/top_ups_controller')
const TransfersController = () => import('#ledger/controllers/transfers_controller')
const TrialBalanceController = () => import('#ledger/controllers/trial_balance_controller')

/** A public id in a URL: anything else under /ledger/people/ or /ledger/transfers/ is not found. */
const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$/

addNavEntry({
  label: 'ledger.nav.wallets',
  href: '/console/ledger',
  icon: 'money',
  permission: 'ledger.read',
  order: 25,
})

addNavEntry({
  label: 'ledger.nav.trial_balance',
  href: '/console/trial-balance',
  icon: 'money',
  permission: 'ledger.read',
  order: 26,
})

router
  .group(() => {
    router.get('/ledger', [WalletsController, 'index']).as('ledger.index')
    router
      .get('/ledger/people/:publicId', [WalletsController, 'show'])
      .where('publicId', PUBLIC_ID)
      .as('ledger.person')
    router
      .post('/ledger/people/:publicId/top-ups', [TopUpsController, 'store'])
      .where('publicId', PUBLIC_ID)
      .as('ledger.top_up')
    router
      .get('/ledger/transfers/:publicId', [TransfersController, 'show'])
      .where('publicId', PUBLIC_ID)
      .as('ledger.transfer')
    router
      .get('/ledger/transfers/:publicId/receipt', [TransfersController, 'receipt'])
      .where('publicId', PUBLIC_ID)
      .as('ledger.receipt')
    router
      .post('/ledger/transfers/:publicId/reverse', [TransfersController, 'reverse'])
      .where('publicId', PUBLIC_ID)
      .as('ledger.reverse')
    router.get('/trial-balance', [TrialBalanceController, 'show']).as('ledger.trial_balance')
    router
      .get('/trial-balance.csv', [TrialBalanceController, 'export'])
      .as('ledger.trial_balance.csv')
  })
  .prefix('/console')
  .use(middleware.auth())
