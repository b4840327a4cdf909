import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { addNavEntry } from '#core/services/navigation'
import '#cards/services/person_cards_panel'

const CardsController = () => import('#cards/controllers/cards_controller')
const CardTypesController = () => import('#cards/controllers/card_types_controller')
const UpgradeRulesController = () => import('#cards/controllers/upgrade_rules_controller')
const PhysicalCardsController = () => import('#cards/controllers/physical_cards_controller')
const IssuancesController = () => import('#cards/controllers/issuances_controller')
const BlacklistController = () => import('#cards/controllers/blacklist_controller')

/** A public id in a URL; keeps /card-types/new out of :publicId. */
const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$/

addNavEntry({
  label: 'cards.nav.cards',
  href: '/console/cards',
  icon: 'card',
  permission: 'cards.read',
  order: 20,
})

addNavEntry({
  label: 'cards.nav.types',
  href: '/console/card-types',
  icon: 'card',
  permission: 'cards.read',
  order: 21,
})

addNavEntry({
  label: 'cards.nav.issuances',
  href: '/console/card-issuances',
  icon: 'card',
  permission: 'cards.read',
  order: 22,
})

addNavEntry({
  label: 'cards.nav.blacklist',
  href: '/console/card-blacklist',
  icon: 'alert',
  permission: 'cards.read',
  order: 23,
})

router
  .group(() => {
    router.get('/cards', [CardsController, 'index']).as('cards.index')
    router.get('/cards/dashboard', [CardsController, 'dashboard']).as('cards.dashboard')
    router.post('/cards/bulk', [CardsController, 'bulk']).as('cards.bulk')
    router.post('/cards/export', [CardsController, 'export']).as('cards.export')
    router
      .get('/cards/:publicId', [CardsController, 'show'])
      .where('publicId', PUBLIC_ID)
      .as('cards.show')
    for (const action of ['freeze', 'unfreeze', 'revoke', 'reissue'] as const) {
      router
        .post(`/cards/:publicId/${action}`, [CardsController, action])
        .where('publicId', PUBLIC_ID)
        .as(`cards.${action}`)
    }
    router
      .post('/cards/:publicId/physical', [PhysicalCardsController, 'store'])
      .where('publicId', PUBLIC_ID)
      .as('cards.physical.bind')
    router
      .post('/physical-cards/:publicId/unbind', [PhysicalCardsController, 'unbind'])
      .where('publicId', PUBLIC_ID)
      .as('cards.physical.unbind')
    router
      .post('/physical-cards/:publicId/lost', [PhysicalCardsController, 'lost'])
      .where('publicId', PUBLIC_ID)
      .as('cards.physical.lost')
    router
      .post('/physical-cards/found', [PhysicalCardsController, 'found'])
      .as('cards.physical.found')

    router.get('/card-types', [CardTypesController, 'index']).as('card_types.index')
    router.get('/card-types/new', [CardTypesController, 'create']).as('card_types.create')
    router.post('/card-types', [CardTypesController, 'store']).as('card_types.store')
    router
      .get('/card-types/:publicId/edit', [CardTypesController, 'edit'])
      .where('publicId', PUBLIC_ID)
      .as('card_types.edit')
    router
      .post('/card-types/:publicId', [CardTypesController, 'update'])
      .where('publicId', PUBLIC_ID)
      .as('card_types.update')
    router
      .get('/card-types/:publicId/face/:kind', [CardTypesController, 'faceImage'])
      .where('publicId', PUBLIC_ID)
      .as('card_types.face_image')

    router.post('/card-upgrade-rules', [UpgradeRulesController, 'store']).as('card_upgrades.store')
    router
      .post('/card-upgrade-rules/:publicId/enable', [UpgradeRulesController, 'enable'])
      .where('publicId', PUBLIC_ID)
      .as('card_upgrades.enable')
    router
      .post('/card-upgrade-rules/:publicId/disable', [UpgradeRulesController, 'disable'])
      .where('publicId', PUBLIC_ID)
      .as('card_upgrades.disable')

    router.get('/card-issuances', [IssuancesController, 'create']).as('card_issuances.create')
    router.post('/card-issuances', [IssuancesController, 'store']).as('card_issuances.store')
    router
      .get('/card-issuances/:publicId', [IssuancesController, 'show'])
      .where('publicId', PUBLIC_ID)
      .as('card_issuances.show')
    router
      .get('/card-issuances/:publicId/progress', [IssuancesController, 'progress'])
      .where('publicId', PUBLIC_ID)
      .as('card_issuances.progress')
    router
      .post('/people/:publicId/cards', [IssuancesController, 'issueOne'])
      .where('publicId', PUBLIC_ID)
      .as('cards.issue_one')

    router.get('/card-blacklist', [BlacklistController, 'index']).as('card_blacklist.index')
  })
  .prefix('/console')
  .use(middleware.auth())
