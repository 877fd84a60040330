/**
 * `edgebridge run`: load the configuration, start the daemon, and live until a signal.
 *
 * SIGTERM / SIGINT: stop accepting, drain the forwarder for forwarder.drainTimeoutMs, close, exit 0.
 * A second signal while stopping exits at once (1): the disk spool keeps what was not forwarded.
 * SIGHUP: reload TLS certificates without dropping connected clients.
 * Under systemd (Type=notify) readiness and watchdog pings go to the service manager.
 */
import { Daemon } from '../daemon.js'
import { ConfigError, EdgebridgeError } from '../errors.js'
import { loadConfig, EX_CONFIG } from '../config/index.js'
import { createRootLogger } from '../observability/logger.js'
import { notifySystemd, startWatchdog } from '../observability/systemd-notify.js'

export async function runDaemonCommand(args: string[]): Promise<number> {
  let config
  try {
    config = loadConfig({ argv: args })
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`edgebridge: invalid configuration: ${err.message}\n`)
      return EX_CONFIG
    }
    throw err
  }
  const logger = createRootLogger(config.log.level)

  let daemon: Daemon
  try {
    daemon = await Daemon.start(config, logger)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    logger.fatal({ err }, `cannot start: ${message}`)
    logger.flush()
    // One plain line for the operator at the terminal (the JSON log goes to stdout / the journal).
    const code = err instanceof EdgebridgeError ? err.code : undefined
    const hint =
      code === 'LISTEN_ADDRESS_IN_USE'
        ? ' (another MQTT broker such as Mosquitto? choose a free port with EDGEBRIDGE_MQTT_PORT or mqtt.port)'
        : code === 'HTTP_ADDRESS_IN_USE'
          ? ' (another edgebridge? choose a free port with EDGEBRIDGE_HTTP_PORT or http.port, or set http.enabled=false)'
          : ''
    process.stderr.write(`edgebridge: cannot start: ${message}${hint}\n`)
    return err instanceof EdgebridgeError && err.code === 'CONFIG_INVALID' ? EX_CONFIG : 1
  }

  notifySystemd('READY=1')
  const watchdog = startWatchdog()

  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal while stopping: exiting now')
        logger.flush()
        resolve(1)
        return
      }
      stopping = true
      logger.info({ signal }, 'signal received')
      notifySystemd('STOPPING=1')
      watchdog.stop()
      daemon.stop().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, 'error while stopping')
          resolve(1)
        },
      )
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
    process.on('SIGHUP', () => {
      logger.info('SIGHUP: reloading TLS certificates, password and ACL files')
      void daemon.ingress.reload()
    })
  }).then((code) => {
    logger.flush()
    // Client libraries may keep reconnect timers alive; the daemon is stopped, so leave now.
    setImmediate(() => process.exit(code))
    return code
  })
}
