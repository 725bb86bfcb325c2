/**
 * Zoom and pan of the image under review, apart from the DOM. The image is drawn at `translate(x, y) scale(scale)`
 * with its transform origin at the top left of its frame; every position here is in the frame's pixels. Pure.
 */

export interface Zoom {
  readonly scale: number;
  readonly x: number;
  readonly y: number;
}

export const NO_ZOOM: Zoom = { scale: 1, x: 0, y: 0 };
export const MIN_SCALE = 1;
export const MAX_SCALE = 8;
/** One key press or wheel notch zooms by this factor; one shift+arrow pans by this many pixels. */
export const ZOOM_STEP = 1.25;
export const PAN_STEP = 60;

/** The frame the image is drawn in: panning never moves the image's edge inside it. */
export interface Frame {
  readonly width: number;
  readonly height: number;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

/** Keeps the zoomed image covering the frame it covered unzoomed (no panning into emptiness). */
function confine(zoom: Zoom, frame: Frame): Zoom {
  if (zoom.scale <= MIN_SCALE) return NO_ZOOM;
  const minX = frame.width * (1 - zoom.scale);
  const minY = frame.height * (1 - zoom.scale);
  return { scale: zoom.scale, x: clamp(zoom.x, minX, 0), y: clamp(zoom.y, minY, 0) };
}

/**
 * Zooms by `factor` keeping the point under (cx, cy) where it is, as a map does under the cursor: the image point
 * q under the cursor satisfies c = t + s·q before and after, so t' = c − (s'/s)·(c − t).
 */
export function zoomAt(zoom: Zoom, factor: number, cx: number, cy: number, frame: Frame): Zoom {
  const scale = clamp(zoom.scale * factor, MIN_SCALE, MAX_SCALE);
  const ratio = scale / zoom.scale;
  return confine({ scale, x: cx - ratio * (cx - zoom.x), y: cy - ratio * (cy - zoom.y) }, frame);
}

/** Zooms by `factor` about the frame's centre (the keys). */
export function zoomCentre(zoom: Zoom, factor: number, frame: Frame): Zoom {
  return zoomAt(zoom, factor, frame.width / 2, frame.height / 2, frame);
}

/** Moves the image by (dx, dy) frame pixels (a drag, or a shift+arrow). */
export function pan(zoom: Zoom, dx: number, dy: number, frame: Frame): Zoom {
  return confine({ scale: zoom.scale, x: zoom.x + dx, y: zoom.y + dy }, frame);
}

export function transformOf(zoom: Zoom): string {
  return zoom.scale === 1 && zoom.x === 0 && zoom.y === 0 ? '' : `translate(${zoom.x}px, ${zoom.y}px) scale(${zoom.scale})`;
}
