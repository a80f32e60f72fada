// The volume viewer: niivue (WebGL2) showing the preprocessed image with the model's output
// as an overlay, in three orthogonal planes and a render.

import { Niivue, NVImage, SHOW_RENDER } from '@niivue/niivue';

import type { Prediction, ViewerImage } from './protocol.js';

/** Colour map and display range of each overlay kind. */
const OVERLAY_STYLE = {
  saliency: { colormap: 'warm', opacity: 0.7 },
  labels: { colormap: 'actc', opacity: 0.5 },
  reconstruction: { colormap: 'winter', opacity: 0.5 },
} as const;

/** The text the viewer shows before a volume is run, and after its result is cleared. */
export const EMPTY_TEXT = 'Drop a NIfTI volume on the page or choose one to run the model';

export class Viewer {
  private readonly niivue: Niivue;
  private readonly attached: Promise<unknown>;

  constructor(canvas: HTMLCanvasElement) {
    this.niivue = new Niivue({
      backColor: [0.05, 0.05, 0.08, 1],
      show3Dcrosshair: true,
      crosshairWidth: 0.5,
      isColorbar: true,
      // The render is the fourth view; niivue's default (AUTO) drops it in a wide window.
      multiplanarShowRender: SHOW_RENDER.ALWAYS,
      // Keep the canvas's pixels after each frame, so screenshots read what is shown.
      preserveDrawingBuffer: true,
      // niivue draws this text while it shows no volume (its default is 'loading ...').
      loadingText: EMPTY_TEXT,
    } as ConstructorParameters<typeof Niivue>[0]);
    this.attached = this.niivue.attachToCanvas(canvas);
  }

  /** Shows the prediction's image and its overlay, replacing what was shown. */
  async show(prediction: Prediction): Promise<void> {
    await this.attached;
    const images = [await this.image(prediction.image, { colormap: 'gray', opacity: 1 })];
    const overlay = prediction.overlay;
    if (overlay !== undefined) {
      const style = OVERLAY_STYLE[overlay.kind];
      const range = overlayRange(overlay, prediction);
      images.push(await this.image(overlay, { ...style, ...range }));
    }
    for (const volume of [...this.niivue.volumes]) this.niivue.removeVolume(volume);
    for (const volume of images) this.niivue.addVolume(volume);
    this.niivue.setSliceType(this.niivue.sliceTypeMultiplanar);
    this.niivue.updateGLVolume();
  }

  /** Removes the shown image and overlay, so a stale result is not taken for a new one. */
  async clear(): Promise<void> {
    await this.attached;
    for (const volume of [...this.niivue.volumes]) this.niivue.removeVolume(volume);
    this.niivue.drawScene();
  }

  private image(
    image: ViewerImage,
    options: { colormap: string; opacity: number; cal_min?: number; cal_max?: number },
  ): Promise<NVImage> {
    const buffer = image.bytes.slice().buffer;
    return NVImage.loadFromUrl({ url: image.name, name: image.name, buffer, ...options });
  }
}

/**
 * Returns the display range of an overlay: the worker's, else for labels from 1 (background 0 stays
 * transparent) to the last class, else niivue's robust range.
 */
function overlayRange(
  overlay: NonNullable<Prediction['overlay']>,
  prediction: Prediction,
): { cal_min?: number; cal_max?: number } {
  if (overlay.displayRange !== undefined) {
    return { cal_min: overlay.displayRange[0], cal_max: overlay.displayRange[1] };
  }
  if (overlay.kind === 'labels') {
    const channels = prediction.outShape[0] ?? 2;
    return { cal_min: 0.5, cal_max: Math.max(1, channels - 1) };
  }
  return {};
}
