// Branded number types where two kinds of number could be mixed up.

declare const brand: unique symbol;
export type Branded<T, Name extends string> = T & { readonly [brand]: Name };

/** A record's position in a log partition: 0, 1, 2, … */
export type Offset = Branded<number, 'Offset'>;
/** A byte position inside one file. */
export type FilePosition = Branded<number, 'FilePosition'>;
/** A number of bytes. */
export type ByteCount = Branded<number, 'ByteCount'>;
/** Milliseconds since the Unix epoch. */
export type TimestampMs = Branded<number, 'TimestampMs'>;

export const Offset = (value: number): Offset => value as Offset;
export const FilePosition = (value: number): FilePosition => value as FilePosition;
export const ByteCount = (value: number): ByteCount => value as ByteCount;
export const TimestampMs = (value: number): TimestampMs => value as TimestampMs;
