import vine from '@vinejs/vine'

/** POST /t/v1/enroll: a CSR, or a password for a PKCS#12 bundle. */
export const enrollValidator = vine.compile(
  vine.object({
    enrollment_code: vine.string().trim().minLength(16).maxLength(40),
    csr: vine.string().maxLength(16_000).optional().requiredIfMissing('pkcs12_password'),
    pkcs12_password: vine.string().minLength(8).maxLength(128).optional(),
  })
)

/** POST /t/v1/heartbeat */
export const heartbeatValidator = vine.compile(
  vine.object({
    terminal_time: vine.number().withoutDecimals().min(0).max(8_640_000_000_000_000),
    firmware_version: vine.string().trim().maxLength(64).optional(),
    model: vine.string().trim().maxLength(120).optional(),
    pending_records: vine.number().withoutDecimals().min(0).max(10_000_000).optional(),
    last_sequence: vine.number().withoutDecimals().min(0).optional(),
  })
)

/** GET /t/v1/blacklist?since=N and GET /t/v1/sync?blacklist_since=N */
export const blacklistQueryValidator = vine.compile(
  vine.object({
    since: vine.number().withoutDecimals().min(0).optional(),
    blacklist_since: vine.number().withoutDecimals().min(0).optional(),
  })
)
