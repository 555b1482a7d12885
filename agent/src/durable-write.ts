/**
 * Replacing a file so that a power loss leaves the old content or the new, never an empty or torn
 * file: write a temp file beside it, fsync it, rename it over the file, then fsync the directory (the
 * rename is an entry of the directory: unsynced, a crash may forget it). ext4 and XFS can otherwise
 * persist the rename before the data.
 */
import * as fs from 'node:fs'
import { dirname } from 'node:path'

/** The file system calls used, passed in so a test sees their order. */
export type FileOps = Pick<typeof fs, 'openSync' | 'writeSync' | 'fsyncSync' | 'closeSync' | 'renameSync'>

/** Replaces `file` with `text` (mode `mode` for a new file), durably. */
export function replaceDurably(file: string, text: string, mode = 0o600, ops: FileOps = fs): void {
  const tmp = `${file}.tmp`
  const fd = ops.openSync(tmp, 'w', mode)
  try {
    ops.writeSync(fd, text)
    ops.fsyncSync(fd)
  } finally {
    ops.closeSync(fd)
  }
  ops.renameSync(tmp, file)
  const dir = ops.openSync(dirname(file), 'r')
  try {
    ops.fsyncSync(dir)
  } finally {
    ops.closeSync(dir)
  }
}
