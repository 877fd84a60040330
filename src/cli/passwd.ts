/**
 * `edgebridge passwd`: manage a password file the way `mosquitto_passwd` does, so operators can use
 * either tool on the same file.
 *
 *   edgebridge passwd [-c] <file> <user>              prompt for the password (no echo on a terminal)
 *   edgebridge passwd [-c] -b <file> <user> <password> batch mode: password on the command line
 *   edgebridge passwd -D <file> <user>                delete the user
 *
 * -c starts a new file (overwriting any existing one). Without a terminal the password is read as one
 * line from stdin, which is how scripts and provisioning tools feed it.
 */
import { createInterface } from 'node:readline'
import { Writable, type Readable } from 'node:stream'
import { errorMessage } from '../errors.js'
import { checkUsername, deletePasswordEntry, writePasswordEntry } from '../ingress/auth/password-file.js'

export interface PasswdIo {
  stdin: Readable & { isTTY?: boolean }
  stdout: Writable
  stderr: Writable
}

const USAGE = `Usage: edgebridge passwd [-c | -D] <passwordfile> <username>
       edgebridge passwd [-c] -b <passwordfile> <username> <password>
 -b : batch mode: take the password from the command line.
 -c : create a new password file, overwriting an existing one.
 -D : delete the username instead of adding or updating it.
`

/** Reads one line; on a terminal the typed characters are not echoed. */
async function readSecret(io: PasswdIo, prompt: string): Promise<string | null> {
  const tty = io.stdin.isTTY === true
  io.stderr.write(prompt)
  const silent = new Writable({ write: (_chunk, _enc, cb) => cb() })
  const rl = createInterface({ input: io.stdin, output: tty ? silent : undefined, terminal: tty })
  try {
    const line = await new Promise<string | null>((resolve) => {
      rl.once('line', resolve)
      rl.once('close', () => resolve(null))
    })
    if (tty) io.stderr.write('\n')
    return line
  } finally {
    rl.close()
  }
}

async function promptPassword(io: PasswdIo): Promise<string | null> {
  const first = await readSecret(io, 'Password: ')
  if (first === null) return null
  // Asking twice only makes sense for a person at a terminal; a pipe gives one line.
  if (io.stdin.isTTY !== true) return first
  const second = await readSecret(io, 'Reenter password: ')
  if (second !== first) {
    io.stderr.write('Error: Passwords do not match.\n')
    return null
  }
  return first
}

/** Runs the command; returns the process exit code (0 ok, 1 error, as mosquitto_passwd). */
export async function runPasswdCommand(
  args: string[],
  io: PasswdIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let batch = false
  let create = false
  let del = false
  let i = 0
  for (; i < args.length; i++) {
    const a = args[i]
    if (a === '-b') batch = true
    else if (a === '-c') create = true
    else if (a === '-D') del = true
    else if (a === '-h' || a === '--help') {
      io.stdout.write(USAGE)
      return 0
    } else break
  }
  const rest = args.slice(i)
  if ((create && del) || (batch && del) || rest.length !== (batch ? 3 : 2)) {
    io.stderr.write(USAGE)
    return 1
  }
  const [file, user] = rest as [string, string]
  try {
    checkUsername(user)
    if (del) {
      if (!(await deletePasswordEntry(file, user))) {
        io.stderr.write(`Warning: User ${user} not found in password file.\n`)
        return 1
      }
      return 0
    }
    const password = batch ? rest[2]! : await promptPassword(io)
    if (password === null) {
      if (!batch) io.stderr.write('Error: No password given.\n')
      return 1
    }
    if (password === '') {
      io.stderr.write('Error: Empty password.\n')
      return 1
    }
    await writePasswordEntry(file, user, password, { create })
    return 0
  } catch (err) {
    io.stderr.write(`Error: ${errorMessage(err)}\n`)
    return 1
  }
}
