import {
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_CODE_LIFETIME_SECONDS,
} from '#cards/campus_code/verify'
import { DEFAULT_CODE_REFRESH_SECONDS } from '#cards/campus_code/code'

/** Protocol timings a terminal receives in GET /t/v1/config (docs/terminal-protocol.md §5). */
export const TERMINAL_SETTINGS = {
  heartbeatIntervalSeconds: 30,
  syncIntervalSeconds: 60,
  /** A terminal not seen for this long shows as offline in the console. */
  onlineWindowSeconds: 90,
  /** Beyond this drift (either way) the clock is reported skewed. */
  maxClockDriftSeconds: 30,
  codeRefreshSeconds: DEFAULT_CODE_REFRESH_SECONDS,
  codeLifetimeSeconds: DEFAULT_CODE_LIFETIME_SECONDS,
  clockSkewSeconds: DEFAULT_CLOCK_SKEW_SECONDS,
} as const
