import { join } from 'node:path';

// The spill directory, as the README draws it:
//   spillDir/
//     w-<start time>-<pid>-<random>/   one per sink instance (its writer directory)
//       owner.json                     who writes here, for which database and table; touched as a heartbeat
//       seg-000001.jsonl               a closed segment, waiting for replay
//       seg-000002.jsonl.open          the segment being appended to
//       seg-000003-late.jsonl          rows written after close(), appended synchronously
//     quarantine/w-....jsonl           refused records, rejected rows, unreadable lines
//     quarantine/segments/             segments that failed replay too often, set aside

export const OWNER_FILE = 'owner.json';
/** The segment being appended to carries this suffix until it is closed (renamed). */
export const OPEN_SUFFIX = '.open';
export const CLOSED_SEGMENT = /^seg-\d+(?:-late)?\.jsonl$/;
export const OPEN_SEGMENT = /^seg-\d+(?:-late)?\.jsonl\.open$/;

/** Writer directories start with this; nothing else under spillDir does. */
export function isWriterDirName(name: string): boolean {
  return name.startsWith('w-');
}

/** The file name of segment number `seq` (`late`: written after close()), open or closed. */
export function segmentFileName(seq: number, options: { late?: boolean; open?: boolean } = {}): string {
  return `seg-${String(seq).padStart(6, '0')}${options.late ? '-late' : ''}.jsonl${options.open ? OPEN_SUFFIX : ''}`;
}

/** Whether a file in a writer directory is a segment at all (open, closed, or a failed late one). */
export function isSegmentFile(name: string): boolean {
  return name.startsWith('seg-');
}

/** `w-.../seg-...`: a segment named relative to the spill directory, as reports and the quarantine file name it. */
export function segmentName(path: string): string {
  return path.split(/[\\/]/).slice(-2).join('/');
}

/** This instance's quarantine file. */
export function quarantinePath(spillDir: string, instanceId: string): string {
  return join(spillDir, 'quarantine', `${instanceId}.jsonl`);
}

/** Where a segment that keeps failing replay is set aside. */
export function setAsidePath(spillDir: string, segmentPath: string): string {
  return join(spillDir, 'quarantine', 'segments', segmentName(segmentPath).replace('/', '-'));
}
