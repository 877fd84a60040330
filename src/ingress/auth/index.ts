export { AclFile, allowAllAcl, loadAcl, type Acl, type AclClient } from './acl-file.js'
export { createAuthCounters, type AuthCounters } from './auth-counters.js'
export { Authenticator, identityOf, type AuthenticatorOptions, type ClientIdentity } from './authenticator.js'
export { loadPasswordFile, PasswordFile, writePasswordEntry, deletePasswordEntry } from './password-file.js'
