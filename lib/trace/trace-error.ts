/** A trace that cannot be read or written: the message names the file, the place (text line or binary record) and the problem. */
export class TraceError extends Error {
  constructor(
    readonly file: string,
    /** `line 12` (text), `record 7` (binary, counted from 0), or '' when the problem is the whole file. */
    readonly place: string,
    readonly problem: string,
  ) {
    super(place ? `${file}:${place.replace(/^line /, '')}: ${problem}` : `${file}: ${problem}`);
    this.name = 'TraceError';
  }
}
