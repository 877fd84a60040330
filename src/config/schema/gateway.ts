import { hostname } from 'node:os'
import * as f from '../formats.js'
import { leaf, type Section } from './leaf.js'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** Top-level keys: who this gateway is, where it keeps state, how much it logs. */
export function gatewaySection(env: NodeJS.ProcessEnv): Section {
  // systemd sets STATE_DIRECTORY for StateDirectory= (a colon-separated list when several are given).
  const stateDirectory = env.STATE_DIRECTORY?.split(':')[0]
  return {
    gatewayId: leaf({
      doc: 'Name of this gateway: carried in the gateway.id header and in record ids (JetStream de-duplication), so it must be unique among gateways and stable across restarts.',
      format: f.nonEmptyString,
      default: hostname(),
      env: 'EDGEBRIDGE_GATEWAY_ID',
      defaultDoc: 'the host name',
    }),
    dataDir: leaf({
      doc: 'Directory for the spool and other state. Under systemd with StateDirectory=, $STATE_DIRECTORY.',
      format: f.dirPath,
      default: stateDirectory !== undefined && stateDirectory !== '' ? stateDirectory : './data',
      env: 'EDGEBRIDGE_DATA_DIR',
      defaultDoc: '$STATE_DIRECTORY when set, else ./data',
    }),
    log: {
      level: leaf({
        doc: 'Log level (JSON lines on stdout).',
        format: f.oneOf(LOG_LEVELS),
        default: 'info',
        env: 'EDGEBRIDGE_LOG_LEVEL',
      }),
    },
  }
}
