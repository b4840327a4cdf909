import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { addNavEntry } from '#core/services/navigation'

const WalletConsoleController = () => import('#ledger/controllers/wallet_console_controller')

const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$/
const KIND = /^(subsidies|vouchers)$/

addNavEntry({
  label: 'ledger.nav.subsidies',
  href: '/console/wallets/subsidies',
  icon: 'money',
  permission: 'ledger.read',
  order: 27,
})
addNavEntry({
  label: 'ledger.nav.vouchers',
  href: '/console/wallets/vouchers',
  icon: 'money',
  permission: 'ledger.read',
  order: 28,
})
addNavEntry({
  label: 'ledger.nav.wallet_settings',
  href: '/console/wallets/settings',
  icon: 'money',
  permission: 'ledger.read',
  order: 29,
})
addNavEntry({
  label: 'ledger.nav.leaving',
  href: '/console/wallets/leaving',
  icon: 'money',
  permission: 'ledger.read',
  order: 29,
})
addNavEntry({
  label: 'ledger.nav.reconciliation',
  href: '/console/wallets/reconciliation',
  icon: 'money',
  permission: 'ledger.read',
  order: 30,
})

router
  .group(() => {
    router.get('/wallets/settings', [WalletConsoleController, 'settings'])
    router.post('/wallets/settings', [WalletConsoleController, 'saveSettings'])
    router.get('/wallets/reconciliation', [WalletConsoleController, 'reconciliation'])
    router.get('/wallets/reconciliation.csv', [WalletConsoleController, 'reconciliationCsv'])
    router.get('/wallets/leaving', [WalletConsoleController, 'leaving'])
    router
      .post('/wallets/leaving/:publicId', [WalletConsoleController, 'refundLeaving'])
      .where('publicId', PUBLIC_ID)
    router.get('/wallets/:kind', [WalletConsoleController, 'batches']).where('kind', KIND)
    router.post('/wallets/:kind', [WalletConsoleController, 'createBatch']).where('kind', KIND)
    router
      .get('/wallets/:kind/:publicId', [WalletConsoleController, 'batch'])
      .where('kind', KIND)
      .where('publicId', PUBLIC_ID)
    router
      .post('/wallets/:kind/:publicId/issue', [WalletConsoleController, 'issueBatch'])
      .where('kind', KIND)
      .where('publicId', PUBLIC_ID)
    router
      .post('/wallets/:kind/:publicId/expire', [WalletConsoleController, 'expireBatch'])
      .where('kind', KIND)
      .where('publicId', PUBLIC_ID)
  })
  .prefix('/console')
  .use(middleware.auth())
