import type Terminal from '#terminals/models/terminal'

/** The fields an audit entry keeps of a terminal (never the enrollment code hash). */
export function terminalAuditView(terminal: Terminal) {
  return {
    name: terminal.name,
    kind: terminal.kind,
    location: terminal.location,
    shopId: terminal.shopId,
    status: terminal.status,
    certificateSerial: terminal.certificateSerial,
    offlineCountPerDay: terminal.offlineCountPerDay,
    offlineAmountPerDay: terminal.offlineAmountPerDay,
    offlineSingleAmount: terminal.offlineSingleAmount,
  }
}
