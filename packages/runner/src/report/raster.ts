import { PNG } from "pngjs";
import { GLYPH_H, GLYPH_W, glyph, textWidth } from "./font.js";

export type RGB = readonly [number, number, number];

/** An RGBA pixel buffer with the few drawing operations the report PNGs need. */
export class Raster {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: RGB = [255, 255, 255],
  ) {
    this.data = new Uint8Array(width * height * 4);
    this.fillRect(0, 0, width, height, background);
  }

  set(x: number, y: number, c: RGB, alpha = 1): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = (y * this.width + x) * 4;
    const d = this.data;
    d[o] = Math.round(d[o] * (1 - alpha) + c[0] * alpha);
    d[o + 1] = Math.round(d[o + 1] * (1 - alpha) + c[1] * alpha);
    d[o + 2] = Math.round(d[o + 2] * (1 - alpha) + c[2] * alpha);
    d[o + 3] = 255;
  }

  fillRect(x: number, y: number, w: number, h: number, c: RGB): void {
    for (let j = Math.max(0, y); j < Math.min(this.height, y + h); j++)
      for (let i = Math.max(0, x); i < Math.min(this.width, x + w); i++) this.set(i, j, c);
  }

  /** text in the 5×7 font; `shadow` draws a 1-px dark outline so letters read on any image */
  text(x: number, y: number, text: string, c: RGB, scale = 1, shadow = false): number {
    const draw = (ox: number, oy: number, col: RGB) => {
      [...text].forEach((ch, n) => {
        const rows = glyph(ch);
        for (let r = 0; r < GLYPH_H; r++)
          for (let b = 0; b < GLYPH_W; b++)
            if (rows[r] & (1 << (GLYPH_W - 1 - b)))
              this.fillRect(ox + (n * (GLYPH_W + 1) + b) * scale, oy + r * scale, scale, scale, col);
      });
    };
    if (shadow)
      for (const [dx, dy] of [
        [-1, 0],
        [1, 0],
        [0, -1],
        [0, 1],
      ])
        draw(x + dx, y + dy, [0, 0, 0]);
    draw(x, y, c);
    return textWidth(text, scale);
  }

  png(): Buffer {
    const png = new PNG({ width: this.width, height: this.height });
    png.data.set(this.data);
    return PNG.sync.write(png);
  }
}
