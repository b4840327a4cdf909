/*
 * Globals shared with every Edge template.
 */
import edge from 'edge.js'
import { DateTime } from 'luxon'
import { navEntries } from '#core/services/navigation'
import { chartGeometry } from '#core/services/chart_geometry'
import { schoolTimeZone } from '#appliance/services/school_settings'
import pkg from '../package.json' with { type: 'json' }

edge.global('quadVersion', pkg.version)
edge.global('navEntries', () => navEntries())
edge.global('chartGeometry', chartGeometry)

/** Formats a UTC time in the school's time zone, e.g. 2026-11-28 21:05:09. */
edge.global(
  'formatTime',
  (value: DateTime | Date | string | null, format = 'yyyy-MM-dd HH:mm:ss') => {
    if (!value) return ''
    const zone = schoolTimeZone()
    const time =
      value instanceof DateTime
        ? value
        : value instanceof Date
          ? DateTime.fromJSDate(value)
          : DateTime.fromISO(value)
    return time.setZone(zone).toFormat(format)
  }
)
