/*
 * Each module declares its own routes; this file only imports them.
 */
import '#core/routes'
import '#identity/routes'
import '#identity/directory_routes'
import '#cards/routes'
import '#cards/verify_routes'
import '#ledger/routes'
import '#reports/routes'
import '#identity/portal_routes'
import '#app_center/routes'
import '#appliance/routes'
import '#cards/portal_routes'
import '#app_center/cas_routes'
import '#access/routes'
import '#terminals/routes'
import '#merchants/routes'
