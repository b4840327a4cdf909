import edge from 'edge.js'
import { formatFen } from '#ledger/services/money'

/**
 * Money in pages: `formatFen(1250)` is "¥12.50". Every amount the ledger's
 * pages show goes through it, so that none is ever formatted from a float.
 */
edge.global('formatFen', (fen: number, options: { signed?: boolean } = {}) =>
  formatFen(Number(fen), 'zh-CN', options)
)
