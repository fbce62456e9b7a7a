// The part of archiver 8 (no bundled types) that pack.ts uses: the tar format, entries from buffers.
declare module 'archiver' {
  import type { Transform } from 'node:stream';
  import type { ZlibOptions } from 'node:zlib';

  export interface TarArchiveOptions {
    gzip?: boolean;
    gzipOptions?: ZlibOptions;
    highWaterMark?: number;
  }

  /** Fields beyond archiver's own (uid, gid, uname, gname) are passed on to tar-stream's header. */
  export interface TarEntryData {
    name: string;
    type?: 'file' | 'directory';
    mode?: number;
    date?: Date;
    uid?: number;
    gid?: number;
    uname?: string;
    gname?: string;
  }

  export class TarArchive extends Transform {
    constructor(options?: TarArchiveOptions);
    append(source: Buffer | string | null, data: TarEntryData): this;
    finalize(): Promise<void>;
  }
}
