/*
 * Each module declares its own routes; this file only imports them.
 */
import '#core/routes'
import '#identity/routes'
import '#appliance/routes'
