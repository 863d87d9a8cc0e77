declare module 'bmp-js' {
  /** Pixels as A,B,G,R bytes per pixel, rows top to bottom. */
  interface BmpImage {
    data: Buffer;
    width: number;
    height: number;
  }
  export function decode(buffer: Buffer): BmpImage;
  export function encode(image: { data: Buffer | Uint8Array; width: number; height: number }, quality?: number): BmpImage;
  const bmp: { decode: typeof decode; encode: typeof encode };
  export default bmp;
}
