/**
 * How a campus code is drawn as a QR code (docs/campus-code.md §5). The text
 * is Base45, so every character is in the QR alphanumeric set and the whole
 * code is one alphanumeric segment.
 */
export const QR_PARAMETERS = {
  mode: 'alphanumeric',
  errorCorrectionLevel: 'M',
  /** 305 characters need version 10 (57 × 57 modules); the format never needs more. */
  maxVersion: 10,
  /** The light border the QR standard requires on every side. */
  quietZoneModules: 4,
} as const
