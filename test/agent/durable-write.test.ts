import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { replaceDurably, type FileOps } from '../../agent/src/durable-write'

/** The real file system, each call recorded as `name target` (a descriptor shown as what it opened). */
function recordingFs() {
  const calls: string[] = []
  const opened = new Map<number, string>()
  const ops: FileOps = {
    openSync: ((path: fs.PathLike, flags: fs.OpenMode, mode?: fs.Mode) => {
      const fd = fs.openSync(path, flags, mode)
      opened.set(fd, String(path))
      calls.push(`open ${String(path)}`)
      return fd
    }) as FileOps['openSync'],
    writeSync: ((fd: number, text: string) => {
      calls.push(`write ${opened.get(fd)}`)
      return fs.writeSync(fd, text)
    }) as FileOps['writeSync'],
    fsyncSync: (fd) => {
      calls.push(`fsync ${opened.get(fd)}`)
      fs.fsyncSync(fd)
    },
    closeSync: (fd) => {
      calls.push(`close ${opened.get(fd)}`)
      fs.closeSync(fd)
    },
    renameSync: (from, to) => {
      calls.push(`rename ${String(from)} -> ${String(to)}`)
      fs.renameSync(from, to)
    },
  }
  return { ops, calls }
}

describe('replaceDurably', () => {
  it('syncs the new content before the rename makes it the file, and the directory after, so a power loss keeps the old or the new', () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'sg-durable-'))
    const file = join(dir, 'state.json')
    fs.writeFileSync(file, 'old')
    const { ops, calls } = recordingFs()

    replaceDurably(file, '{"new":true}', 0o600, ops)

    expect(calls).toEqual([
      `open ${file}.tmp`,
      `write ${file}.tmp`,
      `fsync ${file}.tmp`,
      `close ${file}.tmp`,
      `rename ${file}.tmp -> ${file}`,
      `open ${dir}`,
      `fsync ${dir}`,
      `close ${dir}`,
    ])
    expect(fs.readFileSync(file, 'utf8')).toBe('{"new":true}')
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    expect(fs.readdirSync(dir)).toEqual(['state.json'])
  })
})
