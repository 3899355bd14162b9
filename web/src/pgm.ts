// Netpbm images (PGM P5/P2, PPM P6), as the Mandelbrot example writes: drawn into a canvas.

export type Image = { width: number; height: number; rgba: Uint8ClampedArray<ArrayBuffer> };

/** Parses a binary (P5/P6) or ASCII (P2) netpbm image; null when `data` is not one. */
export function parseNetpbm(data: Uint8Array): Image | null {
  if (data.length < 3 || data[0] !== 0x50) return null; // 'P'
  const kind = String.fromCharCode(data[1]);
  if (!["2", "5", "6"].includes(kind)) return null;
  let pos = 2;
  const token = (): string | null => {
    // whitespace and # comments
    for (;;) {
      while (pos < data.length && /\s/.test(String.fromCharCode(data[pos]))) pos++;
      if (data[pos] === 0x23) { while (pos < data.length && data[pos] !== 0x0a) pos++; continue; }
      break;
    }
    const start = pos;
    while (pos < data.length && !/\s/.test(String.fromCharCode(data[pos]))) pos++;
    return start < pos ? new TextDecoder().decode(data.subarray(start, pos)) : null;
  };
  const width = Number(token()), height = Number(token()), max = Number(token());
  if (!(width > 0 && height > 0 && max > 0 && max < 65536)) return null;
  const n = width * height;
  const rgba = new Uint8ClampedArray(n * 4);
  const scale = 255 / max;
  if (kind === "2") {
    for (let i = 0; i < n; i++) {
      const t = token();
      if (t === null) return null;
      const v = Number(t) * scale;
      rgba.set([v, v, v, 255], i * 4);
    }
    return { width, height, rgba };
  }
  pos++; // the single whitespace after maxval
  const channels = kind === "6" ? 3 : 1;
  const wide = max > 255 ? 2 : 1;
  if (data.length - pos < n * channels * wide) return null;
  const sample = (k: number) => (wide === 2 ? (data[pos + 2 * k] << 8) | data[pos + 2 * k + 1] : data[pos + k]) * scale;
  for (let i = 0; i < n; i++) {
    if (channels === 1) { const v = sample(i); rgba.set([v, v, v, 255], i * 4); }
    else rgba.set([sample(3 * i), sample(3 * i + 1), sample(3 * i + 2), 255], i * 4);
  }
  return { width, height, rgba };
}

/** A canvas showing the image, or null when the bytes are not a netpbm image. */
export function netpbmCanvas(data: Uint8Array): HTMLCanvasElement | null {
  const img = parseNetpbm(data);
  if (!img) return null;
  const canvas = document.createElement("canvas");
  canvas.width = img.width;
  canvas.height = img.height;
  canvas.className = "preview";
  canvas.dataset.width = String(img.width);
  canvas.dataset.height = String(img.height);
  const ctx = canvas.getContext("2d")!;
  ctx.putImageData(new ImageData(img.rgba, img.width, img.height), 0, 0);
  return canvas;
}

/** The MIME type and file extension to download an output as. */
export function outputKind(data: Uint8Array): { mime: string; ext: string; label: string } {
  const head = String.fromCharCode(...data.subarray(0, 2));
  if (head === "P5" || head === "P2") return { mime: "image/x-portable-graymap", ext: "pgm", label: "PGM image" };
  if (head === "P6") return { mime: "image/x-portable-pixmap", ext: "ppm", label: "PPM image" };
  if (data[0] === 0x89 && head.charCodeAt(1) === 0x50) return { mime: "image/png", ext: "png", label: "PNG image" };
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(data);
    return { mime: "text/plain", ext: "txt", label: "text" };
  } catch {
    return { mime: "application/octet-stream", ext: "bin", label: "binary" };
  }
}
