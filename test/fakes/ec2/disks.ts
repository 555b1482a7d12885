/**
 * Root volumes as real directories, so that what an instance carries on disk travels as on AWS:
 * CreateImage copies the source instance's disk into the image at request time (as a NoReboot
 * snapshot does), RunInstances gives the new instance a copy of its image's disk, and an image with
 * no disk here (an Amazon AMI) boots an empty one. Disks outlive their instance and image (nothing
 * boots them again; they stay for inspection).
 */
import { cpSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** A file's content, a symbolic link, or content with its mode. */
export type DiskFile = string | Buffer | { symlink: string } | { content: string | Buffer; mode: number }
/** Files of a disk by absolute path on the instance (`/etc/spot-optimizer/agent.env`). */
export type DiskFiles = Record<string, DiskFile>

export interface Disks {
  /** The directory holding an instance's root file system (`/` of the instance). */
  instanceDir(instanceId: string): string
  imageDir(imageId: string): string
  /** CreateImage: the image gets a copy of the instance's disk as it is now. */
  snapshot(instanceId: string, imageId: string): void
  /** A launch: the instance gets a copy of its image's disk (an empty one when the image has none). */
  provision(instanceId: string, imageId: string): void
  /** Writes files onto a seeded image's disk. */
  writeImage(imageId: string, files: DiskFiles): void
}

/** Disks under `root`: `<root>/instances/<id>/` and `<root>/images/<id>/`. */
export function directoryDisks(root: string): Disks {
  const instanceDir = (id: string) => join(root, 'instances', id)
  const imageDir = (id: string) => join(root, 'images', id)
  // Symlinks stay links (an installed unit's enablement is one), pointing where they pointed.
  const copy = (from: string, to: string) => {
    mkdirSync(to, { recursive: true })
    if (existsSync(from))
      cpSync(from, to, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true })
  }
  return {
    instanceDir,
    imageDir,
    snapshot: (instanceId, imageId) => copy(instanceDir(instanceId), imageDir(imageId)),
    provision: (instanceId, imageId) => copy(imageDir(imageId), instanceDir(instanceId)),
    writeImage(imageId, files) {
      for (const [path, file] of Object.entries(files)) {
        const target = join(imageDir(imageId), path)
        mkdirSync(dirname(target), { recursive: true })
        if (typeof file === 'string' || Buffer.isBuffer(file)) writeFileSync(target, file)
        else if ('symlink' in file) symlinkSync(file.symlink, target)
        else writeFileSync(target, file.content, { mode: file.mode })
      }
    },
  }
}
