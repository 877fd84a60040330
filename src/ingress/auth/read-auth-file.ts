/**
 * Reads a Mosquitto-style password or ACL file as text. A file that cannot be read is the same
 * error as one that does not parse (the file's own code), so start-up and SIGHUP report both alike.
 */
import { readFile } from 'node:fs/promises'
import { EdgebridgeError, type ErrorCode } from '../../errors.js'

export async function readAuthFile(
  file: string,
  code: Extract<ErrorCode, 'ACL_FILE_INVALID' | 'AUTH_FILE_INVALID'>,
  what: string,
): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new EdgebridgeError(code, `${file}: cannot read ${what}: ${(err as Error).message}`, { cause: err })
  }
}
