/*
 * The portal's card-to-card transfer (/portal/wallet/transfer, 转账), shown
 * when the school has enabled it in the console's wallet settings.
 */
import edge from 'edge.js'
import limiter from '@adonisjs/limiter/services/main'
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

/** Recipient lookups a holder may make in an hour (the step that shows a masked name). */
export const TRANSFER_LOOKUPS_PER_HOUR = 30

/**
 * The review step names the recipient of a person number (masked): per
 * holder, a few dozen lookups an hour, so that nobody walks the directory.
 */
const lookupThrottle = limiter.define('portal_transfer_lookup', (ctx) =>
  limiter
    .allowRequests(TRANSFER_LOOKUPS_PER_HOUR)
    .every('1 hour')
    .usingKey(`transfer_lookup_${ctx.portal?.person.publicId ?? ctx.request.ip()}`)
)

router
  .group(() => {
    router.get('/wallet/transfer', [PortalTransferController, 'show']).as('portal.transfer')
    router
      .post('/wallet/transfer/review', [PortalTransferController, 'review'])
      .use(lookupThrottle)
      .as('portal.transfer.review')
    router.post('/wallet/transfer', [PortalTransferController, 'book']).as('portal.transfer.book')
  })
  .prefix('/portal')
  .use(middleware.portalAuth())
