import { OnDeviceError } from '../index';

/** The first image among dropped or pasted items, if any. */
export function imageFromTransfer(data: DataTransfer | null): File | undefined {
  if (!data) return undefined;
  for (const file of Array.from(data.files)) if (file.type.startsWith('image/')) return file;
  for (const item of Array.from(data.items ?? [])) {
    if (item.kind === 'file' && item.type.startsWith('image/')) {
      const file = item.getAsFile();
      if (file) return file;
    }
  }
  return undefined;
}

/** Decode an image file (EXIF orientation applied), with a coded error for anything that is not one. */
export async function decodeImage(blob: Blob): Promise<ImageBitmap> {
  try {
    // Pixels as stored (no colour management), as PaddleOCR's cv2.imread sees them.
    return await createImageBitmap(blob, { imageOrientation: 'from-image', colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (error) {
    throw new OnDeviceError(
      'INVALID_INPUT',
      `This file could not be read as an image (${blob.type || 'unknown type'}): ${(error as Error).message}`,
    );
  }
}
