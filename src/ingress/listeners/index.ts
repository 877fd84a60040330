export {
  createListener,
  type AdmitHook,
  type ListenerHandle,
  type ListenerOptions,
} from './create-listener.js'
export {
  connectionInfo,
  isLoopbackHost,
  resolveAllowAnonymous,
  type ConnectionInfo,
} from './connection-info.js'
