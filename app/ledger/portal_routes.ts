/*
 * The portal's card-to-card transfer (/portal/wallet/transfer, 转账), shown
 * when the school has enabled it in the console's wallet settings.
 */
import edge from 'edge.js'
import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { walletSettings } from '#ledger/services/wallet_settings'

const PortalTransferController = () => import('#ledger/controllers/portal_transfer_controller')

/**
 * Whether the wallet page offers 转账. The page (reports) asks through this
 * template global, so that it needs to know nothing about the setting.
 */
async function cardToCardEnabled(): Promise<boolean> {
  const settings = await walletSettings()
  return settings.cardToCard.enabled
}

edge.global('cardToCardEnabled', cardToCardEnabled)

router
  .group(() => {
    router.get('/wallet/transfer', [PortalTransferController, 'show']).as('portal.transfer')
    router
      .post('/wallet/transfer/review', [PortalTransferController, 'review'])
      .as('portal.transfer.review')
    router.post('/wallet/transfer', [PortalTransferController, 'book']).as('portal.transfer.book')
  })
  .prefix('/portal')
  .use(middleware.portalAuth())
